#include "session_controller.h"

#include <QAction>
#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "main_window.h"
#include "panels/attention_maps_panel.h"
#include "plot/figure_style.h"
#include "selection_model.h"
#include "panel_table.h"
#include "session/panel_registry.h"
#include "teaching_window.h"

namespace attnscope::app {
namespace {

constexpr int kMaxRecent = 8;
constexpr char kFilter[] = "AttnScope sessions (*.attnscope)";

QString errorText(const std::exception& e) { return QString::fromUtf8(e.what()); }

int autosaveIntervalMs() {
    bool ok = false;
    const int ms = qEnvironmentVariableIntValue("ATTNSCOPE_AUTOSAVE_MS", &ok);
    return ok && ms > 0 ? ms : 120000;
}

}  // namespace

SessionController::SessionController(MainWindow* window) : QObject(window), m_window(window) {
    m_autosave = new QTimer(this);
    m_autosave->setInterval(autosaveIntervalMs());
    connect(m_autosave, &QTimer::timeout, this, &SessionController::autosaveNow);
    if (window->isInteractive()) m_autosave->start();
}

void SessionController::addPanel(const QString& id, QWidget* panel) {
    for (auto& [existing, widget] : m_panels)
        if (existing == id) {
            widget = panel;
            return;
        }
    m_panels.emplace_back(id, panel);
}

void SessionController::addMenuActions(QMenu* file, QMenu* view) {
    file->addSeparator();
    QAction* open = file->addAction(tr("Open &Session\u2026"), this, &SessionController::openWithDialog);
    open->setObjectName(QStringLiteral("openSessionAction"));
    open->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O));
    QAction* save = file->addAction(tr("&Save Session"), this, [this] { saveWithDialog(false); });
    save->setObjectName(QStringLiteral("saveSessionAction"));
    save->setShortcut(QKeySequence::Save);
    file->addAction(tr("Save Session &As\u2026"), this, [this] { saveWithDialog(true); })->setShortcut(QKeySequence::SaveAs);
    m_recent = file->addMenu(tr("Recent S&essions"));
    m_recent->setObjectName(QStringLiteral("recentSessionsMenu"));
    file->addAction(tr("Export &Figures of Open Panels\u2026"), this, &SessionController::exportFiguresWithDialog);
    rebuildRecent();

    QAction* teach = view->addAction(tr("&Teaching Mode"), this, [this] {
        auto* teaching = new TeachingWindow(m_window);
        teaching->show();
    });
    teach->setObjectName(QStringLiteral("teachingModeAction"));
    teach->setShortcut(QKeySequence(Qt::Key_F5));
    QMenu* style = view->addMenu(tr("Plot &Style"));
    auto* group = new QActionGroup(style);
    for (widgets::FigureStyle s : {widgets::FigureStyle::Screen, widgets::FigureStyle::Light, widgets::FigureStyle::Print}) {
        QAction* a = style->addAction(s == widgets::FigureStyle::Screen  ? tr("Screen (follows the theme)")
                                      : s == widgets::FigureStyle::Light ? tr("Publication: light")
                                                                         : tr("Publication: print"));
        a->setCheckable(true);
        a->setChecked(s == widgets::FigureStyle::Screen);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, s] {
            for (QCustomPlot* plot : m_window->findChildren<QCustomPlot*>()) widgets::applyFigureStyle(plot, s);
        });
    }
}

Session SessionController::capture() const {
    Session s;
    s.appVersion = ATTNSCOPE_VERSION;
    s.created = sessionTimestampNow();
    if (const auto request = m_window->modelRequest()) {
        s.model.path = request->path.toStdString();
        s.model.tokenizer = request->tokenizer.toStdString();
        s.model.device = deviceName(request->device);
        s.model.dtype = dtypeName(request->dtype);
        if (const ModelInfo* info = m_window->modelInfo()) s.model.family = info->arch;
        try {
            s.model.sha256 = sessionModelFingerprint(s.model.path, s.model.tokenizer);
        } catch (const Error&) {
        }
    } else if (m_window->storedModel()) {
        s.model = *m_window->storedModel();  // a session opened without its model keeps its reference
    }
    s.prompt = m_window->promptText().toStdString();
    const TokenStrip& tokens = m_window->runTokens();
    s.tokenIds = tokens.ids;
    s.tokenPieces = tokens.pieces;
    s.view.layer = std::max(0, m_window->selection()->layer());
    s.view.head = m_window->selection()->head();
    s.view.token = m_window->selection()->token();
    const auto& registry = panelRegistry();
    for (const auto& [id, widget] : m_panels) {
        const widgets::PanelSessionSpec* spec = registry.session(id);
        if (!spec || !widget) continue;
        SessionSection section;
        if (!spec->save(widget, section)) continue;
        if (id == centralPanel().id && m_window->modelInfo()) {
            section.params["layers"] = m_window->modelInfo()->nLayers;
            section.params["heads"] = m_window->modelInfo()->nHeads;
        }
        s.panels[id.toStdString()] = std::move(section);
        s.view.openPanels.push_back(id.toStdString());
    }
    return s;
}

void SessionController::saveTo(const QString& path) {
    saveSession(path.toStdString(), capture());
    m_path = path;
    addRecent(path);
    emit sessionSaved(path);
}

bool SessionController::open(const QString& path) {
    Session session;
    QStringList skipped;
    const auto& registry = panelRegistry();
    try {
        session = loadSession(path.toStdString());
        // Every section first: a bad one leaves the window as it was.
        for (const auto& [id, section] : session.panels) {
            const widgets::PanelSessionSpec* spec = registry.session(QString::fromStdString(id));
            if (!spec) {
                skipped << QString::fromStdString(id);
                continue;
            }
            if (spec->validate) spec->validate(session, section);
        }
    } catch (const std::exception& e) {
        const QString msg = tr("Could not open the session %1:\n%2").arg(QFileInfo(path).fileName(), errorText(e));
        m_window->statusBar()->showMessage(msg.section(QLatin1Char('\n'), 0, 0) + QStringLiteral(" ") + errorText(e));
        if (m_window->isInteractive()) QMessageBox::warning(m_window, tr("Open Session"), msg);
        return false;
    }
    m_window->enterStoredSession(session);
    for (const auto& [id, widget] : m_panels) {
        auto it = session.panels.find(id.toStdString());
        const widgets::PanelSessionSpec* spec = registry.session(id);
        if (it == session.panels.end() || !spec || !widget) continue;
        spec->restore(widget, session, it->second);
    }
    m_window->setLayerHead(session.view.layer, session.view.head);
    if (session.view.token >= 0) m_window->selection()->setToken(int(session.view.token));
    if (!session.view.currentPanel.empty()) m_window->showPanel(QString::fromStdString(session.view.currentPanel));
    m_path = path;
    addRecent(path);
    if (!skipped.isEmpty())
        m_window->statusBar()->showMessage(tr("This build has no panel for the stored sections: %1").arg(skipped.join(", ")));
    afterModelCheck(session);
    emit sessionOpened(path);
    return true;
}

void SessionController::afterModelCheck(const Session& session) {
    std::string found;
    m_match = checkSessionModel(session.model, &found);
    const QString path = QString::fromStdString(session.model.path);
    ModelRequest request{path, QString::fromStdString(session.model.tokenizer)};
    switch (*m_match) {
    case SessionModelMatch::Match:
        m_window->statusBar()->showMessage(tr("Session opened; the model matches and is loading, so everything is live again"));
        m_window->openModel(request);  // runs the stored prompt when loaded
        break;
    case SessionModelMatch::Absent:
        m_window->statusBar()->showMessage(
            tr("Model not found (%1): the views show the stored results; running, generating and re-fitting need the model "
               "(File \u25b8 Open Model, or Locate when asked)").arg(path));
        if (m_window->isInteractive() &&
            QMessageBox::question(m_window, tr("Model Not Found"),
                                  tr("The session's model is not at\n%1\n\nThe views show the stored results. Actions that "
                                     "need the model (run, generate, re-fit) are unavailable until it is found.\n\n"
                                     "Locate the model now?").arg(path)) == QMessageBox::Yes)
            locateModel(session);
        break;
    case SessionModelMatch::Mismatch:
        m_window->statusBar()->showMessage(
            tr("Model MISMATCH: %1 has changed since the session was saved (sha256 %2\u2026 now, %3\u2026 stored); "
               "the views show the stored results").arg(path, QString::fromStdString(found.substr(0, 12)),
                                                         QString::fromStdString(session.model.sha256.substr(0, 12))));
        if (m_window->isInteractive() &&
            QMessageBox::warning(m_window, tr("Model Mismatch"),
                                 tr("The model at\n%1\nis not the one this session was computed with (its config or "
                                    "weight layout differs).\n\nThe views show the stored results. Load this model "
                                    "anyway and recompute?").arg(path),
                                 QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes)
            m_window->openModel(request);
        break;
    }
}

void SessionController::locateModel(const Session& session) {
    const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Locate the Session's Model"));
    if (dir.isEmpty()) return;
    Session moved = session;
    moved.model.path = dir.toStdString();
    afterModelCheck(moved);
}

void SessionController::saveWithDialog(bool askPath) {
    QString path = m_path;
    if (askPath || path.isEmpty()) {
        QSettings settings;
        path = QFileDialog::getSaveFileName(m_window, tr("Save Session"), settings.value("sessions/dir", QDir::homePath()).toString(),
                                            tr(kFilter));
        if (path.isEmpty()) return;
        if (!path.endsWith(QLatin1String(".attnscope"))) path += QStringLiteral(".attnscope");
        settings.setValue("sessions/dir", QFileInfo(path).absolutePath());
    }
    try {
        saveTo(path);
        m_window->statusBar()->showMessage(tr("Saved session %1").arg(path));
    } catch (const std::exception& e) {
        QMessageBox::warning(m_window, tr("Save Session"), tr("Could not save (the previous file is unchanged):\n%1").arg(errorText(e)));
    }
}

void SessionController::openWithDialog() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(m_window, tr("Open Session"),
                                                      settings.value("sessions/dir", QDir::homePath()).toString(), tr(kFilter));
    if (path.isEmpty()) return;
    settings.setValue("sessions/dir", QFileInfo(path).absolutePath());
    open(path);
}

void SessionController::exportFiguresWithDialog() {
    const Session session = capture();
    if (session.panels.empty()) {
        QMessageBox::information(m_window, tr("Export Figures"), tr("No panel holds results yet."));
        return;
    }
    const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Export Figures To"));
    if (dir.isEmpty()) return;
    bool ok = false;
    const QString format = QInputDialog::getItem(m_window, tr("Export Figures"), tr("Format:"),
                                                 {QStringLiteral("png"), QStringLiteral("svg"), QStringLiteral("pdf"), QStringLiteral("csv")},
                                                 0, false, &ok);
    if (!ok) return;
    widgets::FigureOptions o;
    if (format == QLatin1String("png")) {
        o.dpi = QInputDialog::getInt(m_window, tr("Export Figures"), tr("Resolution (DPI):"), 300, 72, 1200, 1, &ok);
        if (!ok) return;
    }
    const QString style = QInputDialog::getItem(m_window, tr("Export Figures"), tr("Style:"),
                                                {QStringLiteral("light"), QStringLiteral("print")}, 0, false, &ok);
    if (!ok) return;
    o.style = widgets::figureStyleFromName(style);
    QStringList written, failed;
    for (const widgets::FigureSpec& f : panelRegistry().figures()) {
        if (!session.panels.count(f.panel.toStdString())) continue;
        const QString path = QDir(dir).filePath(f.name + QLatin1Char('.') + format);
        try {
            widgets::exportFigure(panelRegistry(), session, f.name, o, path);
            written << f.name;
        } catch (const std::exception& e) {
            failed << f.name + QStringLiteral(": ") + errorText(e);
        }
    }
    QMessageBox::information(m_window, tr("Export Figures"),
                             tr("Wrote %1 figure(s) to %2.%3").arg(written.size()).arg(dir,
                                 failed.isEmpty() ? QString() : tr("\n\nNot written:\n") + failed.join(QLatin1Char('\n'))));
}

void SessionController::addRecent(const QString& path) {
    if (!m_window->isInteractive()) return;
    QSettings settings;
    QStringList list = settings.value("recentSessions").toStringList();
    list.removeAll(path);
    list.prepend(QFileInfo(path).absoluteFilePath());
    while (list.size() > kMaxRecent) list.removeLast();
    settings.setValue("recentSessions", list);
    rebuildRecent();
}

void SessionController::rebuildRecent() {
    if (!m_recent) return;
    m_recent->clear();
    const QStringList list = m_window->isInteractive() ? QSettings().value("recentSessions").toStringList() : QStringList();
    for (const QString& path : list)
        connect(m_recent->addAction(path), &QAction::triggered, this, [this, path] { open(path); });
    m_recent->setEnabled(!list.isEmpty());
}

QString SessionController::autosavePath() const {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return QDir(dir).filePath(QStringLiteral("autosave.attnscope"));
}

void SessionController::autosaveNow() {
    const Session s = capture();
    if (s.panels.empty()) return;
    QDir().mkpath(QFileInfo(autosavePath()).absolutePath());
    try {
        saveSession(autosavePath().toStdString(), s);
    } catch (const std::exception& e) {
        m_window->statusBar()->showMessage(tr("Autosave failed: %1").arg(errorText(e)));
    }
}

void SessionController::offerRecovery() {
    const QFileInfo info(autosavePath());
    if (!info.exists() || !m_window->isInteractive()) return;
    const auto answer = QMessageBox::question(
        m_window, tr("Recover Session"),
        tr("AttnScope did not close cleanly. Recover the session autosaved at %1?")
            .arg(QLocale().toString(info.lastModified(), QLocale::ShortFormat)),
        QMessageBox::Yes | QMessageBox::Discard, QMessageBox::Yes);
    if (answer == QMessageBox::Yes && open(info.absoluteFilePath())) {
        m_path.clear();  // a later Save asks where, never over the autosave
        return;
    }
    QFile::remove(info.absoluteFilePath());
}

void SessionController::onCleanExit() {
    m_autosave->stop();
    if (m_window->isInteractive()) QFile::remove(autosavePath());
}

}  // namespace attnscope::app
