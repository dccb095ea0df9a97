#include "plot/plot_menu.h"

#include <array>
#include <charconv>
#include <cmath>

#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSvgGenerator>
#include <qcustomplot.h>

namespace attnscope::widgets {
namespace {

constexpr char kMenuProperty[] = "attnscopePlotMenu";

QString axisLabelAt(const QCPAxis* axis, double coord) {
    auto text = qSharedPointerDynamicCast<QCPAxisTickerText>(axis->ticker());
    if (!text) return {};
    const auto it = text->ticks().constFind(coord);
    return it == text->ticks().constEnd() ? QString() : it.value();
}

QString seriesName(const QCPAbstractPlottable* p, int index) {
    return p->name().isEmpty() ? QStringLiteral("series %1").arg(index + 1) : p->name();
}

}  // namespace

QString csvField(const QString& text) {
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString csvNumber(double value) {
    if (std::isnan(value)) return {};
    std::array<char, 32> buf{};
    const float f = float(value);
    // Values that came from floats print as floats: shortest round-trip text of either.
    const auto r = double(f) == value ? std::to_chars(buf.data(), buf.data() + buf.size(), f)
                                      : std::to_chars(buf.data(), buf.data() + buf.size(), value);
    return QString::fromLatin1(buf.data(), int(r.ptr - buf.data()));
}

QString plotDataCsv(const QCustomPlot* constPlot) {
    auto* plot = const_cast<QCustomPlot*>(constPlot);  // QCustomPlot's accessors are not const
    bool anyMap = false, anyTextX = false;
    for (int i = 0; i < plot->plottableCount(); ++i) {
        const QCPAbstractPlottable* p = plot->plottable(i);
        anyMap = anyMap || qobject_cast<const QCPColorMap*>(p);
        anyTextX = anyTextX || qSharedPointerDynamicCast<QCPAxisTickerText>(p->keyAxis()->ticker());
    }
    QStringList lines;
    QString header = QStringLiteral("series,x,y");
    if (anyMap) header += QStringLiteral(",value");
    if (anyTextX) header += QStringLiteral(",x_label");
    lines << header;
    for (int i = 0; i < plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot->plottable(i);
        if (!p->visible()) continue;
        const QString name = csvField(seriesName(p, i));
        auto row = [&](double x, double y, const QString& value) {
            QString line = name + QLatin1Char(',') + csvNumber(x) + QLatin1Char(',') + csvNumber(y);
            if (anyMap) line += QLatin1Char(',') + value;
            if (anyTextX) line += QLatin1Char(',') + csvField(axisLabelAt(p->keyAxis(), x));
            lines << line;
        };
        if (auto* map = qobject_cast<QCPColorMap*>(p)) {
            QCPColorMapData* d = map->data();
            for (int r = 0; r < d->valueSize(); ++r) {
                for (int c = 0; c < d->keySize(); ++c) {
                    if (d->alpha(c, r) == 0) continue;  // not drawn: not part of the plot
                    double x = 0, y = 0;
                    d->cellToCoord(c, r, &x, &y);
                    row(x, y, csvNumber(d->cell(c, r)));
                }
            }
        } else if (QCPPlottableInterface1D* d = p->interface1D()) {
            for (int k = 0; k < d->dataCount(); ++k) row(d->dataMainKey(k), d->dataMainValue(k), {});
        }
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

bool exportPlot(QCustomPlot* plot, const QString& path, int dpi, QSize size) {
    if (!size.isValid() || size.isEmpty()) size = plot->size();
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        return plot->savePng(path, size.width(), size.height(), dpi / 96.0, -1, dpi, QCP::ruDotsPerInch);
    if (suffix == QLatin1String("pdf")) return plot->savePdf(path, size.width(), size.height());
    if (suffix != QLatin1String("svg")) return false;
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(QStringLiteral("AttnScope plot"));
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    plot->toPainter(&painter, size.width(), size.height());
    return painter.end();
}

PlotMenu::PlotMenu(QCustomPlot* plot, const QString& baseName)
    : QObject(plot), m_plot(plot), m_baseName(baseName) {
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(plot, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu* menu = createMenu(m_plot);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(m_plot->mapToGlobal(pos));
    });
}

PlotMenu* PlotMenu::install(QCustomPlot* plot, const QString& baseName) {
    if (PlotMenu* existing = of(plot)) return existing;
    auto* menu = new PlotMenu(plot, baseName);
    plot->setProperty(kMenuProperty, QVariant::fromValue(static_cast<QObject*>(menu)));
    return menu;
}

PlotMenu* PlotMenu::of(const QCustomPlot* plot) {
    return qobject_cast<PlotMenu*>(plot->property(kMenuProperty).value<QObject*>());
}

QString PlotMenu::csv() const { return m_csv ? m_csv() : plotDataCsv(m_plot); }

void PlotMenu::copyCsv() const { QApplication::clipboard()->setText(csv()); }

QMenu* PlotMenu::createMenu(QWidget* parent) {
    auto* menu = new QMenu(parent);
    menu->addAction(tr("Export PNG\u2026"), this, [this] { exportWithDialog(QStringLiteral("png")); });
    menu->addAction(tr("Export SVG\u2026"), this, [this] { exportWithDialog(QStringLiteral("svg")); });
    menu->addAction(tr("Export PDF\u2026"), this, [this] { exportWithDialog(QStringLiteral("pdf")); });
    menu->addSeparator();
    menu->addAction(tr("Copy Data as CSV"), this, &PlotMenu::copyCsv);
    return menu;
}

void PlotMenu::exportWithDialog(const QString& suffix) {
    int dpi = 96;
    if (suffix == QLatin1String("png")) {
        bool ok = false;
        // 96 DPI is the plot as on screen; print quality wants 300.
        dpi = QInputDialog::getInt(m_plot, tr("Export PNG"), tr("Resolution (dots per inch):"), 192, 48,
                                   1200, 24, &ok);
        if (!ok) return;
    }
    const QString filter = suffix == QLatin1String("png")   ? tr("PNG image (*.png)")
                           : suffix == QLatin1String("svg") ? tr("SVG drawing (*.svg)")
                                                            : tr("PDF document (*.pdf)");
    QString path = QFileDialog::getSaveFileName(m_plot, tr("Export Plot"), m_baseName + QLatin1Char('.') + suffix,
                                                filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + suffix;
    if (!exportPlot(m_plot, path, dpi))
        QMessageBox::warning(m_plot, tr("Export Plot"), tr("Could not write %1").arg(path));
}

}  // namespace attnscope::widgets
