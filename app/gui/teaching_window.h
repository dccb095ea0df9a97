// Teaching mode: a presentation window over the main window's live results. One figure at
// a time in large type and high contrast, keyboard paging, a side note on what each figure
// measures (formula and paper), and step-through generation (Next / Play): each step
// generates one token greedily, re-runs the prompt, and the figures redraw.
#pragma once
#include <memory>

#include <QPointer>
#include <QStringList>
#include <QWidget>

class QCustomPlot;
class QLabel;
class QPushButton;
class QTimer;
class QVBoxLayout;

namespace attnscope::app {

class InspectorWorker;
class MainWindow;

class TeachingWindow : public QWidget {
    Q_OBJECT
public:
    explicit TeachingWindow(MainWindow* window);
    ~TeachingWindow() override;

    QStringList pages() const { return m_pages; }  // figure names with data, in order
    int page() const { return m_page; }
    void setPage(int index);
    void refresh();          // re-render the current page from the window's results
    void step();             // generate one token and re-run
    void setPlaying(bool play);
    bool isPlaying() const { return m_playing; }
    QCustomPlot* figure() const { return m_figure.get(); }

signals:
    void stepped(int tokens);  // after a generated token's run has redrawn

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void scheduleRefresh();

    MainWindow* m_window;
    // The main window may go first (its close ends the app; tests drop it): then this
    // window goes too, and its destructor must not reach into the dead worker.
    QPointer<InspectorWorker> m_worker;
    QStringList m_pages;
    int m_page = 0;
    bool m_playing = false;
    bool m_stepPending = false;
    std::unique_ptr<QCustomPlot> m_figure;
    QVBoxLayout* m_figureBox = nullptr;
    QLabel *m_title = nullptr, *m_note = nullptr, *m_prompt = nullptr;
    QPushButton* m_play = nullptr;
    QTimer* m_refresh = nullptr;
};

}  // namespace attnscope::app
