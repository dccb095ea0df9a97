// Sessions in the desktop app: File > Save/Open Session, recent sessions, periodic autosave
// with recovery after a crash, and Export Figures (every open panel at once). Panels take
// part through the registry (widgets/session/panel_registry.h); docks that come later call
// addPanel(id, widget).
#pragma once
#include <map>
#include <optional>

#include <QObject>
#include <QPointer>
#include <QString>

#include "attnscope/session.h"

class QAction;
class QMenu;
class QTimer;
class QWidget;

namespace attnscope::app {

class MainWindow;

class SessionController : public QObject {
    Q_OBJECT
public:
    explicit SessionController(MainWindow* window);

    // The panel widget that saves/restores the registry section `id`.
    void addPanel(const QString& id, QWidget* panel);
    void addMenuActions(QMenu* fileMenu, QMenu* viewMenu);

    // The window's state as a session (no dialogs). Empty panels are left out.
    Session capture() const;
    // Throws attnscope::Error; the previous file is intact on failure.
    void saveTo(const QString& path);
    // Validates every section first; on any error nothing in the window changes.
    // Returns false (and says why, in a dialog when interactive) on failure.
    bool open(const QString& path);
    // What the last opened session's model check found.
    std::optional<SessionModelMatch> modelMatch() const { return m_match; }
    QString currentPath() const { return m_path; }

    QString autosavePath() const;
    void autosaveNow();
    // At start: an autosave left by a crashed run → offer to recover it.
    void offerRecovery();
    // Clean exit: the autosave is no longer needed.
    void onCleanExit();

signals:
    void sessionOpened(const QString& path);
    void sessionSaved(const QString& path);

private:
    void saveWithDialog(bool askPath);
    void openWithDialog();
    void exportFiguresWithDialog();
    void addRecent(const QString& path);
    void rebuildRecent();
    void afterModelCheck(const Session& session);
    void locateModel(const Session& session);

    MainWindow* m_window;
    std::vector<std::pair<QString, QPointer<QWidget>>> m_panels;  // registration order
    QString m_path;
    std::optional<SessionModelMatch> m_match;
    QMenu* m_recent = nullptr;
    QTimer* m_autosave = nullptr;
};

}  // namespace attnscope::app
