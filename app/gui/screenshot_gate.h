// What `attnscope --screenshot` waits for before it grabs the window: the attention map of
// the run, the head grid (docked in the default layout and filled by its own background
// jobs after the map, so a grab on the map alone showed it empty), a raised analysis
// panel's data, and a zoomed view's finer tile.
#pragma once
#include <QObject>
#include <QString>

namespace attnscope::app {

class MainWindow;

class ScreenshotGate : public QObject {
    Q_OBJECT
public:
    // panel: the raised panel whose data to wait for ("" for none); panelShows: how many of
    // its results (2 when a parameter edit re-classifies the first); zoomed: a --view was
    // applied on the first map and its finer tile is awaited too.
    ScreenshotGate(MainWindow* window, const QString& panel = {}, int panelShows = 1, bool zoomed = false);

    bool isOpen() const { return m_waiting <= 0; }
    int waiting() const { return m_waiting; }

signals:
    void opened();  // everything awaited is on screen

private:
    void arrived();

    MainWindow* m_window;
    int m_waiting = 0;
};

}  // namespace attnscope::app
