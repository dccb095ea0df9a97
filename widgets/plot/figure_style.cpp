#include "plot/figure_style.h"

#include <QApplication>
#include <QFontDatabase>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "plot/plot_theme.h"
#include "session/panel_registry.h"

namespace attnscope::widgets {
namespace {

// The first of these installed; every Debian desktop has DejaVu Sans.
QString resolvedFamily() {
    static const QString family = [] {
        const QStringList have = QFontDatabase::families();
        for (const char* f : {"Liberation Sans", "DejaVu Sans", "Noto Sans"})
            if (have.contains(QLatin1String(f))) return QString::fromLatin1(f);
        return QApplication::font().family();
    }();
    return family;
}

constexpr char kBaseWidth[] = "attnscopeBaseWidth";  // a graph's width before styling

void stylePens(QCustomPlot* plot, double lineWidth) {
    for (int i = 0; i < plot->graphCount(); ++i) {
        QCPGraph* g = plot->graph(i);
        QPen pen = g->pen();
        if (!g->property(kBaseWidth).isValid()) g->setProperty(kBaseWidth, pen.widthF());
        const double base = g->property(kBaseWidth).toDouble();
        if (g->lineStyle() != QCPGraph::lsNone) pen.setWidthF(std::max(base, lineWidth));
        g->setPen(pen);
    }
}

}  // namespace

FigureStyleSpec figureStyleSpec(FigureStyle style) {
    FigureStyleSpec s;
    s.family = resolvedFamily();
    if (style == FigureStyle::Print) {
        s.basePt = 9;
        s.labelPt = 10;
        s.axisWidth = 1.0;
        s.lineWidth = 2.0;
        s.margin = 4;
    } else if (style == FigureStyle::Presentation) {
        s.basePt = 18;
        s.labelPt = 20;
        s.axisWidth = 2.0;
        s.lineWidth = 3.5;
        s.margin = 12;
    }
    return s;
}

QString figureStyleName(FigureStyle style) {
    switch (style) {
    case FigureStyle::Screen: return QStringLiteral("screen");
    case FigureStyle::Light: return QStringLiteral("light");
    case FigureStyle::Print: return QStringLiteral("print");
    case FigureStyle::Presentation: return QStringLiteral("presentation");
    }
    return {};
}

FigureStyle figureStyleFromName(const QString& name) {
    for (FigureStyle s : {FigureStyle::Screen, FigureStyle::Light, FigureStyle::Print, FigureStyle::Presentation})
        if (figureStyleName(s) == name) return s;
    fail(ErrorKind::BadInput, "unknown figure style '" + name.toStdString() + "' (screen, light, print, presentation)");
}

void applyFigureStyle(QCustomPlot* plot, FigureStyle style) {
    if (style == FigureStyle::Screen) {
        plot->setPalette(QApplication::palette());
        plot->setFont(QApplication::font());
        applyPlotTheme(plot);
        plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const FigureStyleSpec s = figureStyleSpec(style);
    QPalette pal;  // a white page with black ink, whatever the app's theme
    pal.setColor(QPalette::Window, Qt::white);
    pal.setColor(QPalette::Base, Qt::white);
    pal.setColor(QPalette::WindowText, style == FigureStyle::Light ? QColor(0x20, 0x20, 0x20) : QColor(Qt::black));
    pal.setColor(QPalette::Text, pal.color(QPalette::WindowText));
    QFont font(s.family);
    font.setPointSizeF(s.basePt);
    // The theme filter re-applies colours on these changes; set both, then style on top.
    plot->setPalette(pal);
    plot->setFont(font);
    applyPlotTheme(plot);
    QFont label = font;
    label.setPointSizeF(s.labelPt);
    label.setBold(true);
    const QColor ink = pal.color(QPalette::WindowText);
    QColor grid = ink;
    grid.setAlphaF(style == FigureStyle::Print ? 0.18f : 0.12f);
    auto styleAxis = [&](QCPAxis* axis) {
        const QPen pen(ink, s.axisWidth);
        axis->setBasePen(pen);
        axis->setTickPen(pen);
        axis->setSubTickPen(pen);
        axis->setTickLabelFont(font);
        axis->setLabelFont(label);
        axis->setTickLabelColor(ink);
        axis->setLabelColor(ink);
        axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
    };
    for (QCPAxisRect* rect : plot->axisRects())
        for (QCPAxis* axis : rect->axes()) styleAxis(axis);
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
        QCPLayoutElement* e = plot->plotLayout()->elementAt(i);
        if (auto* scale = qobject_cast<QCPColorScale*>(e)) styleAxis(scale->axis());
        if (auto* title = qobject_cast<QCPTextElement*>(e)) {
            title->setFont(label);
            title->setTextColor(ink);
        }
    }
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i))) {
            QFont f = text->font();
            f.setFamily(s.family);
            f.setPointSizeF(s.basePt);
            text->setFont(f);
        }
    if (plot->legend) plot->legend->setFont(font);
    stylePens(plot, s.lineWidth);
    plot->plotLayout()->setMargins(QMargins(s.margin, s.margin, s.margin, s.margin));
    plot->replot();
}

}  // namespace attnscope::widgets
