// How models, prompts and exports reach the main window: file dialogs, the recent-models
// list and drag-and-drop (split from main_window.cpp, which builds and drives the window).
#include "main_window.h"

#include <QAction>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QSettings>

#include "model_locator.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"

namespace attnscope::app {
namespace {

constexpr int kMaxRecent = 8;

}  // namespace

void MainWindow::chooseModelFile() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Model File"), settings.value("lastDir").toString(),
        tr("Models (*.safetensors *.bin);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue("lastDir", QFileInfo(path).absolutePath());
    ModelRequest request{path, {}};
    if (needsTokenizerFile(path)) {
        const QStringList candidates = tokenizerCandidates(path);
        if (candidates.size() == 1) {
            request.tokenizer = candidates.first();
        } else {
            // None, or several (tok512.bin, tok4096.bin): the user knows which one.
            request.tokenizer = QFileDialog::getOpenFileName(
                this, tr("Tokenizer for %1").arg(QFileInfo(path).fileName()),
                QFileInfo(path).absolutePath(), tr("llama2.c tokenizers (tok*.bin);;All files (*)"));
        }
    }
    openModel(request);
}

void MainWindow::chooseModelFolder() {
    QSettings settings;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"),
                                                          settings.value("lastDir").toString());
    if (dir.isEmpty()) return;
    settings.setValue("lastDir", dir);
    openModel(ModelRequest{dir, {}});
}

void MainWindow::loadPromptFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Load Prompt"), {},
                                                      tr("Text (*.txt *.md);;All files (*)"));
    if (path.isEmpty()) return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        showStatus(tr("Cannot read %1: %2").arg(path, file.errorString()), true);
        return;
    }
    m_prompt->setPlainText(QString::fromUtf8(file.readAll()));
}

void MainWindow::exportHeatmap() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Attention Map"), QStringLiteral("attention.png"),
        tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
    if (path.isEmpty()) return;
    widgets::AttentionHeatmap* map = m_panel->heatmap();
    if (map->exportTo(path, map->width(), map->height())) showStatus(tr("Saved %1").arg(path));
    else showStatus(tr("Could not write %1 (use .png, .svg or .pdf)").arg(path), true);
}

void MainWindow::addRecent(const ModelRequest& request) {
    if (!m_interactive) return;
    QSettings settings;
    QVariantList list = settings.value("recentModels").toList();
    QVariantMap entry{{"path", request.path}, {"tokenizer", request.tokenizer}};
    list.removeIf([&](const QVariant& v) { return v.toMap().value("path") == request.path; });
    list.prepend(entry);
    while (list.size() > kMaxRecent) list.removeLast();
    settings.setValue("recentModels", list);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QVariantList list = QSettings().value("recentModels").toList();
    for (const QVariant& v : list) {
        const QVariantMap entry = v.toMap();
        ModelRequest request{entry.value("path").toString(), entry.value("tokenizer").toString()};
        QAction* action = m_recentMenu->addAction(request.path);
        connect(action, &QAction::triggered, this, [this, request] { openModel(request); });
    }
    m_recentMenu->setEnabled(!list.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    QStringList paths;
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile()) paths << url.toLocalFile();
    const auto request = requestFromPaths(paths);
    if (!request) {
        showStatus(tr("Drop one model (file or folder), optionally with its tokenizer"), true);
        return;
    }
    event->acceptProposedAction();
    openModel(*request);
}


}  // namespace attnscope::app
