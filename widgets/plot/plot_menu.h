// One context menu for every plot: Export PNG (choose DPI) / SVG / PDF, and Copy data as
// CSV. Installed on any QCustomPlot; panels never build their own export code.
#pragma once
#include <functional>

#include <QObject>
#include <QSize>
#include <QString>

class QCustomPlot;
class QMenu;
class QWidget;

namespace attnscope::widgets {

// Writes `plot` by suffix (.png, .svg or .pdf) at `size` logical pixels (default: its size
// on screen). PNGs are rendered at dpi/96 times that size and carry the DPI in the file.
bool exportPlot(QCustomPlot* plot, const QString& path, int dpi = 96, QSize size = {});

// What the plot draws, as CSV. Graphs, curves and bars give columns series,x,y (+ x_label
// when the x axis shows text ticks there); colour maps give series,x,y,value per cell.
QString plotDataCsv(const QCustomPlot* plot);

// One CSV field: quoted when it holds a comma, quote or line break.
QString csvField(const QString& text);
// Shortest text that reads back to the same number (float data stays short: 0.1, not
// 0.100000001490116).
QString csvNumber(double value);

class PlotMenu : public QObject {
    Q_OBJECT
public:
    using CsvProvider = std::function<QString()>;

    // Adds the menu to `plot` (once; later calls return the same object). `baseName`
    // suggests file names in the save dialogs.
    static PlotMenu* install(QCustomPlot* plot, const QString& baseName = QStringLiteral("plot"));
    static PlotMenu* of(const QCustomPlot* plot);

    // Replaces plotDataCsv, for plots whose data reads better with labels (tokens, components).
    void setCsvProvider(CsvProvider provider) { m_csv = std::move(provider); }
    QString csv() const;
    void copyCsv() const;  // to the clipboard
    // The menu as shown on right click (the caller owns it).
    QMenu* createMenu(QWidget* parent);

private:
    PlotMenu(QCustomPlot* plot, const QString& baseName);
    void exportWithDialog(const QString& suffix);

    QCustomPlot* m_plot = nullptr;
    QString m_baseName;
    CsvProvider m_csv;
};

}  // namespace attnscope::widgets
