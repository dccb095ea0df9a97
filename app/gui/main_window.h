// The main window: open a model, edit and run a prompt, look at one layer/head's
// attention. Every model operation goes through the InspectorWorker.
#pragma once
#include <optional>

#include <QHash>
#include <QMainWindow>

#include "attnscope/model.h"
#include "inspector_jobs.h"
#include "model_locator.h"
#include "attnscope/session.h"

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QStackedWidget;
class QTimer;
class QToolButton;

namespace attnscope::widgets {
class AttentionMapsPanel;
class ModelSummary;
}  // namespace attnscope::widgets

namespace attnscope {
struct PromptInfo;  // inspector.h: what a prompt run tells the front ends
}  // namespace attnscope

namespace attnscope::app {

class AnalysisDocks;
class SessionController;
class SelectionModel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // interactive = false: no dialogs and no settings written (screenshots, tests).
    explicit MainWindow(bool interactive = true, QWidget* parent = nullptr);
    ~MainWindow() override;

    void openModel(ModelRequest request);
    void setPromptText(const QString& text);
    void setLayerHead(int layer, int head);
    // Select a query token once the next run is done (-1: none).
    void selectTokenAfterRun(int index) { m_selectAfterRun = index; }
    void setDarkTheme(bool dark);
    widgets::AttentionMapsPanel* attentionPanel() const { return m_panel; }
    AnalysisDocks* analysisDocks() const { return m_docks; }
    SelectionModel* selection() const { return m_selection; }
    // Raise an analysis panel ("sinks", "weibull", "heads"); false for unknown names.
    bool showPanel(const QString& name);
    void runPrompt();

    // Sessions (session_controller.h): what a session stores and restores.
    bool isInteractive() const { return m_interactive; }
    SessionController* sessions() const { return m_sessions; }
    InspectorWorker* worker() const { return m_worker; }
    std::optional<ModelRequest> modelRequest() const { return m_request; }
    const ModelInfo* modelInfo() const { return m_info ? &*m_info : nullptr; }
    // The model reference of a session opened without its model (else nullopt).
    const std::optional<SessionModelRef>& storedModel() const { return m_storedModel; }
    QString promptText() const;
    const TokenStrip& runTokens() const { return m_runTokens; }
    // Drops the current model and shows a stored session's prompt (panels restore next).
    void enterStoredSession(const Session& session);

signals:
    void viewShown();  // an attention map of the current run is on screen
    void tileShown();  // a finer tile of a zoomed long-prompt view is on screen
    void panelShown(const QString& name);  // an analysis panel received data
    void loadFailed(const QString& message);
    void runFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildUi();
    void buildActions();
    void chooseModelFile();
    void chooseModelFolder();
    void loadPromptFile();
    void exportHeatmap();
    void reloadWithCurrentOptions();
    void probeDevices();

    void requestView(int layer, int head);
    void requestTokenValues(int token);
    void requestTile();
    void onModelLoaded(const ModelInfo& info, const ModelRequest& request);
    void onRunDone(const PromptInfo& run);
    void onViewDone(const ViewResult& view);
    void onTileDone(const ViewResult& tile);
    void onJobFailed(const QString& tag, const QString& message, bool cancelled);
    void setBusy(const QString& what);
    void setIdle();
    void cancelAll();

    void showStatus(const QString& text, bool error = false);
    void addRecent(const ModelRequest& request);
    void rebuildRecentMenu();

    bool m_interactive = true;
    SessionController* m_sessions = nullptr;
    std::optional<ModelInfo> m_info;
    std::optional<SessionModelRef> m_storedModel;
    TokenStrip m_runTokens;  // of the last run (or the opened session)
    InspectorWorker* m_worker = nullptr;
    SelectionModel* m_selection = nullptr;
    AnalysisDocks* m_docks = nullptr;
    std::optional<ModelRequest> m_request;  // the model loaded (or being loaded)
    bool m_modelLoaded = false;
    bool m_darkTheme = false;
    int m_selectAfterRun = -1;
    // Pooled whole-prompt overviews of the current run by (layer, head, pool): they take
    // seconds at 32K tokens and are what every return to a head shows first.
    QHash<qint64, Matrix2D> m_overviews;
    QTimer* m_tileTimer = nullptr;  // coalesces a drag's viewport changes into one fetch

    QStackedWidget* m_stack = nullptr;
    QLabel* m_emptyState = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    widgets::AttentionMapsPanel* m_panel = nullptr;
    widgets::ModelSummary* m_summary = nullptr;
    QComboBox *m_device = nullptr, *m_dtype = nullptr;
    QLabel *m_status = nullptr, *m_hover = nullptr;
    QProgressBar* m_progress = nullptr;
    QToolButton* m_cancelButton = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction *m_runAction = nullptr, *m_cancelAction = nullptr, *m_exportAction = nullptr, *m_themeAction = nullptr;
};

}  // namespace attnscope::app
