#include "main_window.h"

#include <memory>
#include <utility>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "analysis_docks.h"
#include "panel_dock.h"
#include "inspector_worker.h"
#include "kv_dock.h"
#include "model_summary.h"
#include "panels/attention_maps_panel.h"
#include "panels/head_grid_panel.h"
#include "panels/kv_panel.h"
#include "panels/sinks_panel.h"
#include "panels/quant_panel.h"
#include "panels/weibull_panel.h"
#include "panel_table.h"
#include "quant_dock.h"
#include "selection_model.h"
#include "session_controller.h"
#include "theme.h"
#include "token_strip.h"

namespace attnscope::app {
namespace {

const QString kLoad = QStringLiteral("load");
const QString kRun = QStringLiteral("run");
const QString kView = QStringLiteral("view");
const QString kRow = QStringLiteral("row");
const QString kTile = QStringLiteral("tile");
const QString kProbe = QStringLiteral("probe");
constexpr int kTileDelayMs = 40;  // a pause in panning/zooming before a finer tile is fetched

qint64 overviewKey(int layer, int head, Pool pool) {
    return (qint64(layer) << 32) | (qint64(head + 1) << 1) | (pool == Pool::Mean ? 1 : 0);
}

Pool panelPool(const widgets::AttentionMapsPanel* panel) {
    return panel->poolIndex() == 1 ? Pool::Mean : Pool::Max;
}

}  // namespace

MainWindow::MainWindow(bool interactive, QWidget* parent)
    : QMainWindow(parent), m_interactive(interactive) {
    setWindowTitle(tr("AttnScope"));
    setAcceptDrops(true);
    m_worker = new InspectorWorker(this);
    buildUi();
    buildActions();
    connect(m_worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == kRun) m_progress->setValue(int(f * 100.0));
    });
    connect(m_worker, &InspectorWorker::jobFailed, this, &MainWindow::onJobFailed);
    connect(m_worker, &InspectorWorker::jobFinished, this, [this](const QString& tag) {
        if ((tag == kLoad || tag == kRun) && !m_worker->isPending(kLoad) && !m_worker->isPending(kRun))
            setIdle();
    });

    if (m_interactive) {
        QSettings settings;
        restoreGeometry(settings.value("window/geometry").toByteArray());
        restoreState(settings.value("window/state").toByteArray());
        m_darkTheme = settings.value("theme/dark", false).toBool();
    }
    setDarkTheme(m_darkTheme);
    rebuildRecentMenu();
    setIdle();
    probeDevices();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildUi() {
    m_emptyState = new QLabel(
        tr("<h2>No model loaded</h2>"
           "<p>Open a model to see what its attention does:</p>"
           "<ul>"
           "<li><b>File \u25b8 Open Model File\u2026</b> (Ctrl+O): a <tt>.safetensors</tt> file "
           "with its <tt>config.json</tt>, or a llama2.c <tt>.bin</tt> checkpoint (its tokenizer "
           "<tt>tokenizer.bin</tt> / <tt>tok*.bin</tt> is found beside it or asked for)</li>"
           "<li><b>File \u25b8 Open Model Folder\u2026</b> (Ctrl+Shift+O): a Hugging Face "
           "model folder</li>"
           "<li>drop a model file or folder onto this window</li>"
           "<li>or start with <nobr><tt>attnscope --model PATH [--tokenizer PATH]</tt></nobr></li>"
           "</ul>"),
        this);
    m_emptyState->setWordWrap(true);
    m_emptyState->setTextFormat(Qt::RichText);
    m_emptyState->setFixedWidth(600);  // word-wrapped labels otherwise shrink to a column
    auto* openFileButton = new QPushButton(tr("Open Model File\u2026"), this);
    auto* openDirButton = new QPushButton(tr("Open Model Folder\u2026"), this);
    auto* emptyButtons = new QHBoxLayout;
    emptyButtons->addWidget(openFileButton);
    emptyButtons->addWidget(openDirButton);
    emptyButtons->addStretch(1);
    auto* emptyColumn = new QVBoxLayout;
    emptyColumn->addWidget(m_emptyState);
    emptyColumn->addLayout(emptyButtons);
    auto* emptyPage = new QWidget(this);
    auto* emptyRow = new QHBoxLayout(emptyPage);
    emptyRow->addStretch(1);
    emptyRow->addLayout(emptyColumn);
    emptyRow->addStretch(1);
    auto* emptyOuter = new QWidget(this);
    auto* emptyOuterLayout = new QVBoxLayout(emptyOuter);
    emptyOuterLayout->addStretch(1);
    emptyOuterLayout->addWidget(emptyPage);
    emptyOuterLayout->addStretch(2);
    connect(openFileButton, &QPushButton::clicked, this, &MainWindow::chooseModelFile);
    connect(openDirButton, &QPushButton::clicked, this, &MainWindow::chooseModelFolder);

    m_prompt = new QPlainTextEdit(this);
    m_prompt->setPlaceholderText(tr("Type a prompt, then Run (Ctrl+Return)"));
    m_prompt->setPlainText(QStringLiteral("Once upon a time, there was a little girl who loved to play outside."));
    auto* runButton = new QPushButton(tr("Run"), this);
    auto* loadPromptButton = new QPushButton(tr("Load Prompt\u2026"), this);
    auto* promptBox = new QWidget(this);
    auto* promptLayout = new QVBoxLayout(promptBox);
    promptLayout->setContentsMargins(0, 0, 0, 0);
    auto* promptButtons = new QHBoxLayout;
    promptButtons->addWidget(runButton);
    promptButtons->addWidget(loadPromptButton);
    promptButtons->addStretch(1);
    promptLayout->addWidget(m_prompt, 1);
    promptLayout->addLayout(promptButtons);

    m_panel = new widgets::AttentionMapsPanel(this);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(promptBox);
    split->addWidget(m_panel);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({110, 800});
    split->setChildrenCollapsible(false);
    auto* page = new QWidget(this);
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(6, 6, 6, 0);
    pageLayout->addWidget(split);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(emptyOuter);
    m_stack->addWidget(page);
    setCentralWidget(m_stack);

    m_summary = new widgets::ModelSummary(this);
    auto* dock = new QDockWidget(tr("Model"), this);
    dock->setObjectName(QStringLiteral("modelDock"));
    dock->setWidget(m_summary);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    resizeDocks({dock}, {260}, Qt::Horizontal);

    m_status = new QLabel(this);
    m_hover = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->setMaximumWidth(200);
    m_progress->hide();
    m_cancelButton = new QToolButton(this);
    m_cancelButton->hide();
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_hover);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelButton);

    connect(runButton, &QPushButton::clicked, this, &MainWindow::runPrompt);
    connect(loadPromptButton, &QPushButton::clicked, this, &MainWindow::loadPromptFile);

    // One selection for every view: the attention panel writes to it and follows it.
    m_selection = new SelectionModel(this);
    m_docks = new AnalysisDocks(this, m_worker, m_selection);
    connect(m_docks, &AnalysisDocks::panelShown, this, &MainWindow::panelShown);
    connect(m_panel, &widgets::AttentionMapsPanel::viewRequested, this, [this](int layer, int head) {
        m_selection->setLayerHead(layer, head);
        requestView(layer, head);
    });
    connect(m_panel, &widgets::AttentionMapsPanel::tokenSelected, m_selection, &SelectionModel::setToken);
    connect(m_panel, &widgets::AttentionMapsPanel::tokenRoleChanged, this, [this] {
        if (m_panel->selectedToken() >= 0 && m_modelLoaded) requestTokenValues(m_panel->selectedToken());
    });
    m_tileTimer = new QTimer(this);
    m_tileTimer->setSingleShot(true);
    m_tileTimer->setInterval(kTileDelayMs);
    connect(m_tileTimer, &QTimer::timeout, this, &MainWindow::requestTile);
    connect(m_panel->heatmap(), &widgets::AttentionHeatmap::viewportChanged, m_tileTimer,
            qOverload<>(&QTimer::start));
    connect(m_selection, &SelectionModel::layerHeadChanged, m_panel, &widgets::AttentionMapsPanel::setLayerHead);
    connect(m_selection, &SelectionModel::tokenChanged, this, [this](int token) {
        m_panel->selectToken(token);
        if (token >= 0 && m_modelLoaded) requestTokenValues(token);
        else m_panel->tokenStrip()->setHighlights({});
    });
    connect(m_panel, &widgets::AttentionMapsPanel::hoverTextChanged, m_hover, &QLabel::setText);
}

void MainWindow::buildActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* openFile = file->addAction(tr("Open Model &File\u2026"), this, &MainWindow::chooseModelFile);
    openFile->setShortcut(QKeySequence::Open);
    openFile->setIcon(style()->standardIcon(QStyle::SP_DialogOpenButton));
    QAction* openDir = file->addAction(tr("Open Model F&older\u2026"), this, &MainWindow::chooseModelFolder);
    openDir->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    openDir->setIcon(style()->standardIcon(QStyle::SP_DirOpenIcon));
    m_recentMenu = file->addMenu(tr("&Recent Models"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    file->addSeparator();
    file->addAction(tr("Load &Prompt\u2026"), this, &MainWindow::loadPromptFile);
    m_exportAction = file->addAction(tr("&Export Attention Map\u2026"), this, &MainWindow::exportHeatmap);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_sessions = new SessionController(this);
    m_sessions->addPanel(centralPanel().id, m_panel);
    for (PanelDock* dock : m_docks->docks()) m_sessions->addPanel(dock->id(), dock->panel());
    QMenu* sessionsAnchor = file;  // session actions go after the model actions
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_runAction = run->addAction(tr("&Run Prompt"), this, &MainWindow::runPrompt);
    m_runAction->setObjectName(QStringLiteral("runAction"));
    m_runAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    m_runAction->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_runAction->setToolTip(tr("Run the prompt (Ctrl+Return)"));
    m_cancelAction = run->addAction(tr("&Cancel"), this, &MainWindow::cancelAll);
    m_cancelAction->setObjectName(QStringLiteral("cancelAction"));
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancelAction->setIcon(style()->standardIcon(QStyle::SP_BrowserStop));
    m_cancelAction->setEnabled(false);
    m_cancelButton->setDefaultAction(m_cancelAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    m_themeAction = view->addAction(tr("&Dark Theme"), this, &MainWindow::setDarkTheme);
    m_themeAction->setCheckable(true);
    m_themeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    view->addSeparator();
    m_docks->addViewActions(view);
    m_sessions->addMenuActions(sessionsAnchor, view);
    // Page Up/Down step layers anywhere in the window (the prompt editor keeps its own).
    auto* up = new QShortcut(QKeySequence(Qt::Key_PageUp), this);
    connect(up, &QShortcut::activated, this, [this] { m_panel->stepLayer(-1); });
    auto* down = new QShortcut(QKeySequence(Qt::Key_PageDown), this);
    connect(down, &QShortcut::activated, this, [this] { m_panel->stepLayer(+1); });

    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(openFile);
    bar->addAction(openDir);
    bar->addSeparator();
    bar->addAction(m_runAction);
    bar->addAction(m_cancelAction);
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Device "), this));
    m_device = new QComboBox(this);
    m_device->addItem(QStringLiteral("cpu"), int(Device::CPU));
    bar->addWidget(m_device);
    bar->addWidget(new QLabel(tr("  Precision "), this));
    m_dtype = new QComboBox(this);
    m_dtype->addItem(QStringLiteral("f32"), int(DType::F32));
    m_dtype->addItem(QStringLiteral("bf16"), int(DType::BF16));
    m_dtype->addItem(QStringLiteral("f16"), int(DType::F16));
    bar->addWidget(m_dtype);
    bar->addSeparator();
    bar->addAction(m_themeAction);
    connect(m_device, &QComboBox::activated, this, &MainWindow::reloadWithCurrentOptions);
    connect(m_dtype, &QComboBox::activated, this, &MainWindow::reloadWithCurrentOptions);
}

void MainWindow::probeDevices() {
    // CUDA initialisation can take seconds: ask the worker, not the GUI thread.
    m_worker->post(kProbe, this, [this](JobContext&) -> InspectorWorker::GuiApply {
        const bool cuda = cudaAvailableOnWorker();
        return [this, cuda] {
            if (cuda && m_device->findData(int(Device::CUDA)) < 0)
                m_device->addItem(QStringLiteral("cuda"), int(Device::CUDA));
        };
    });
}

void MainWindow::setDarkTheme(bool dark) {
    m_darkTheme = dark;
    m_themeAction->setChecked(dark);
    applyTheme(dark);
    if (m_interactive) QSettings().setValue("theme/dark", dark);
}

void MainWindow::setPromptText(const QString& text) { m_prompt->setPlainText(text); }

QString MainWindow::promptText() const { return m_prompt->toPlainText(); }

void MainWindow::enterStoredSession(const Session& session) {
    cancelAll();
    m_docks->onStoredSession();
    m_request.reset();
    m_info.reset();
    m_modelLoaded = false;
    m_storedModel = session.model;
    m_runTokens = {session.tokenIds, session.tokenPieces};
    m_prompt->setPlainText(QString::fromStdString(session.prompt));
    m_stack->setCurrentIndex(1);
    setWindowTitle(tr("%1 (stored session) \u2014 AttnScope").arg(QFileInfo(QString::fromStdString(session.model.path)).fileName()));
}

void MainWindow::setLayerHead(int layer, int head) {
    m_panel->setLayer(layer);
    m_panel->setHead(head);
    m_selection->setLayerHead(m_panel->layer(), m_panel->head());
}

bool MainWindow::showPanel(const QString& name) { return m_docks->showPanel(name); }

void MainWindow::openModel(ModelRequest request) {
    cancelAll();
    request.device = Device(m_device->currentData().toInt());
    request.dtype = DType(m_dtype->currentData().toInt());
    m_request = request;
    m_storedModel.reset();
    m_modelLoaded = false;
    m_overviews.clear();
    m_panel->clear();
    m_summary->clear();
    const QString name = QFileInfo(request.path).fileName();
    setBusy(tr("Loading %1\u2026").arg(name));
    m_worker->post(kLoad, this, [this, request](JobContext& ctx) -> InspectorWorker::GuiApply {
        const ModelInfo info = loadModelOnWorker(ctx, request);
        return [this, info, request] { onModelLoaded(info, request); };
    });
}

void MainWindow::onModelLoaded(const ModelInfo& info, const ModelRequest& request) {
    m_modelLoaded = true;
    m_info = info;
    m_summary->setInfo(info);
    m_panel->setModelShape(info.nLayers, info.nHeads);
    m_stack->setCurrentIndex(1);
    setWindowTitle(tr("%1 \u2014 AttnScope").arg(QFileInfo(request.path).fileName()));
    showStatus(tr("Loaded %1 (%2, %3 parameters)")
                   .arg(QFileInfo(request.path).fileName(), QString::fromStdString(info.arch),
                        widgets::ModelSummary::formatCount(info.nParams)));
    addRecent(request);
    m_docks->onModelLoaded();
    if (!m_prompt->toPlainText().trimmed().isEmpty()) runPrompt();
}

void MainWindow::reloadWithCurrentOptions() {
    if (m_request) openModel(*m_request);  // device and precision come from the combos
}

void MainWindow::runPrompt() {
    if (!m_request) {
        showStatus(tr("Open a model first (File \u25b8 Open Model File\u2026)"), true);
        return;
    }
    const std::string prompt = m_prompt->toPlainText().toStdString();
    if (prompt.empty()) {
        showStatus(tr("The prompt is empty"), true);
        return;
    }
    for (const QString& tag : {kView, kRow, kTile}) m_worker->cancel(tag);
    // The docks keep showing the last run until the new one is done (onRunDone); their
    // pending jobs on the last trace go, or the run would wait behind them.
    m_docks->cancelRunJobs();
    setBusy(tr("Running the prompt\u2026"));
    m_worker->post(kRun, this, [this, prompt](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto run = std::make_shared<PromptInfo>(runPromptOnWorker(ctx, prompt));
        return [this, run] { onRunDone(*run); };
    }, InspectorWorker::Priority::Urgent);  // ahead of the last run's queued analyses: the user waits for this
}

void MainWindow::onRunDone(const PromptInfo& run) {
    m_overviews.clear();
    m_docks->onRunStarted();  // only now: a failed or cancelled run leaves the last one on screen
    m_panel->setModelShape(run.nLayers, run.nHeads);
    m_panel->setTokens(run.tokens);
    m_runTokens = run.tokens;
    if (m_selectAfterRun >= 0) {
        m_panel->selectToken(std::exchange(m_selectAfterRun, -1));
        const QSignalBlocker quiet(m_selection);  // the view request below carries the row
        m_selection->setToken(m_panel->selectedToken());
    }
    m_summary->setTraceSummary(run.length, run.traceBytes);
    showStatus(tr("Ran %1 tokens").arg(run.length));
    requestView(m_panel->layer(), m_panel->head());  // first: the map is what the user waits for
    m_docks->onRunDone(run);
}

void MainWindow::requestView(int layer, int head) {
    if (!m_modelLoaded || m_panel->tokenStrip()->count() == 0) return;
    const Pool pool = panelPool(m_panel);
    m_worker->cancel(kTile);  // a tile of the previous layer/head is of no use now
    if (auto cached = m_overviews.constFind(overviewKey(layer, head, pool)); cached != m_overviews.constEnd()) {
        const int64_t T = m_panel->tokenStrip()->count();
        m_worker->cancel(kView);
        ViewResult view{layer, head, pool, *cached, {0, T, 0, T}, -1, false, {}};
        onViewDone(view);
        if (m_panel->selectedToken() >= 0) requestTokenValues(m_panel->selectedToken());
        return;
    }
    const int selected = m_panel->selectedToken();
    const bool asKey = m_panel->tokenRole() == widgets::TokenRole::Key;
    m_worker->post(kView, this, [this, layer, head, pool, selected, asKey](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto view = std::make_shared<ViewResult>(computeViewOnWorker(ctx, layer, head, pool, selected, asKey));
        return [this, view] { onViewDone(*view); };
    }, InspectorWorker::Priority::Urgent);
}

void MainWindow::onViewDone(const ViewResult& view) {
    // Layer/head may have moved on meanwhile; a newer request is already queued then.
    m_panel->setAttention(view.matrix, view.extent, view.layer, view.head);
    if (!m_panel->heatmap()->isExact()) m_overviews.insert(overviewKey(view.layer, view.head, view.pool), view.matrix);
    if (view.selected >= 0)
        m_panel->setTokenHighlight(view.selected, view.selectedAsKey ? widgets::TokenRole::Key : widgets::TokenRole::Query,
                                   view.tokenValues);
    emit viewShown();
}

void MainWindow::requestTile() {
    widgets::AttentionHeatmap* map = m_panel->heatmap();
    if (!m_modelLoaded || map->matrix().rows == 0 || map->isExact()) return;
    const widgets::HeatmapExtent visible = map->visibleExtent();
    const int width = map->axisRect()->width(), height = map->axisRect()->height();
    const int layer = m_panel->layer(), head = m_panel->head();
    const Pool pool = panelPool(m_panel);
    m_worker->post(kTile, this, [=, this](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto tile = std::make_shared<ViewResult>(computeTileOnWorker(ctx, layer, head, pool, visible, width, height));
        return [this, tile] { onTileDone(*tile); };
    }, InspectorWorker::Priority::Urgent);
}

void MainWindow::onTileDone(const ViewResult& tile) {
    if (tile.layer != m_panel->layer() || tile.head != m_panel->head() || tile.pool != panelPool(m_panel)) return;
    m_panel->heatmap()->setDetail(tile.matrix, tile.extent);
    emit tileShown();
}

void MainWindow::requestTokenValues(int token) {
    const int layer = m_panel->layer(), head = m_panel->head();
    const bool asKey = m_panel->tokenRole() == widgets::TokenRole::Key;
    m_worker->post(kRow, this, [this, layer, head, token, asKey](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto values = std::make_shared<std::vector<float>>(tokenAttentionOnWorker(ctx, layer, head, token, asKey));
        return [this, token, asKey, values] {
            m_panel->setTokenHighlight(token, asKey ? widgets::TokenRole::Key : widgets::TokenRole::Query, *values);
        };
    }, InspectorWorker::Priority::Urgent);
}

void MainWindow::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (tag == kLoad) {
        const QString text = cancelled ? tr("Loading cancelled")
                                       : tr("Could not open %1: %2")
                                             .arg(m_request ? m_request->path : QString(), message);
        showStatus(text, !cancelled);
        m_request.reset();
        m_modelLoaded = false;
        m_stack->setCurrentIndex(0);
        setWindowTitle(tr("AttnScope"));
        if (cancelled) return;
        if (m_interactive) QMessageBox::warning(this, tr("Could not open the model"), text);
        emit loadFailed(text);
    } else if (tag == kRun) {
        // The worker still holds the previous trace: its views stay on screen and usable.
        showStatus(cancelled ? tr("Run cancelled") : tr("Run failed: %1").arg(message), !cancelled);
        if (!cancelled) emit runFailed(message);
    } else if (tag != kProbe && !cancelled) {
        showStatus(message, true);
    }
}

void MainWindow::setBusy(const QString& what) {
    showStatus(what);
    m_progress->setValue(0);
    m_progress->show();
    m_cancelButton->show();
    m_cancelAction->setEnabled(true);
    m_runAction->setEnabled(false);
}

void MainWindow::setIdle() {
    m_progress->hide();
    m_cancelButton->hide();
    m_cancelAction->setEnabled(false);
    m_runAction->setEnabled(m_request.has_value());
}

void MainWindow::cancelAll() {
    const bool loading = m_worker->isPending(kLoad), running = m_worker->isPending(kRun);
    for (const QString& tag : {kLoad, kRun, kView, kRow, kTile}) m_worker->cancel(tag);
    m_docks->cancelAll();  // a cancelled run leaves the previous one on screen
    if (loading || running) showStatus(tr("Cancelled"));
    if (loading && !m_modelLoaded) m_request.reset();
    setIdle();
}

void MainWindow::showStatus(const QString& text, bool error) {
    m_status->setText(error ? tr("\u26a0 %1").arg(text) : text);
    m_status->setToolTip(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #d9362b; font-weight: bold;") : QString());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    cancelAll();
    if (m_sessions) m_sessions->onCleanExit();
    if (m_interactive) {
        QSettings settings;
        settings.setValue("window/geometry", saveGeometry());
        settings.setValue("window/state", saveState());
    }
    QMainWindow::closeEvent(event);
}

}  // namespace attnscope::app
