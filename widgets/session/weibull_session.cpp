// The Weibull panel in sessions and figures: every matrix's fit and the selected matrix's
// probability plot.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/weibull_panel.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/weibull_detail_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "weibull";

void show(WeibullPanel* panel, const WeibullSection& w) {
    panel->setParams(w.params);
    panel->setFits(w.fits);
    if (!w.selected.empty()) panel->selectMatrix(QString::fromStdString(w.selected));
    if (w.hasPlot) panel->setMatrixPlot(w.selected, w.plot);
}

bool save(QWidget* widget, SessionSection& out) {
    auto* panel = qobject_cast<WeibullPanel*>(widget);
    if (!panel || panel->fits().empty()) return false;
    WeibullSection w;
    w.params = panel->params();
    w.fits = panel->fits();
    w.selected = panel->selectedMatrix().toStdString();
    if (panel->detail()->dataTitle() == panel->selectedMatrix() && !panel->detail()->data().lnAbs.empty()) {
        w.plot = panel->detail()->data();
        w.hasPlot = true;
    }
    out = encodeWeibull(w);
    return true;
}

void restore(QWidget* widget, const Session&, const SessionSection& section) {
    auto* panel = qobject_cast<WeibullPanel*>(widget);
    if (!panel) return;
    show(panel, decodeWeibull(section));
}

template <class Pick>
std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, Pick pick) {
    WeibullSection w = decodeWeibull(requireSection(session, kPanel, "Weibull"));
    const QString matrix = o.option(QStringLiteral("matrix"));
    if (!matrix.isEmpty() && matrix.toStdString() != w.selected)
        fail(ErrorKind::BadInput, "weibull: the session stores the probability plot of '" + w.selected +
                                      "' only, not of '" + matrix.toStdString() + "'");
    auto panel = std::make_unique<WeibullPanel>();  // freed if anything throws before detachPlot takes it
    show(panel.get(), w);
    auto [plot, title] = pick(panel.get(), w);
    if (!title.isEmpty()) addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

}  // namespace

void registerWeibullPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Weibull fits"), save, restore,
                         validateBy(decodeWeibull)});
    registry.addFigure({QStringLiteral("weibull-k-map"), kPanel,
                        QObject::tr("Weibull shape k per layer x component, centred on the HalfNormal anchor 1.2054"),
                        QSize(560, 560), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](WeibullPanel* p, const WeibullSection&) {
                                return std::pair<QCustomPlot*, QString>(p->map(), QObject::tr("Weibull fits of weight magnitudes"));
                            });
                        },
                        weibullHelp("k")});
    registry.addFigure({QStringLiteral("weibull-k-layers"), kPanel,
                        QObject::tr("Weibull shape k against layer, one curve per component, with the Transmission band"),
                        QSize(700, 440), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](WeibullPanel* p, const WeibullSection&) {
                                return std::pair<QCustomPlot*, QString>(p->curves(), QString());
                            });
                        },
                        weibullHelp("lines")});
    registry.addFigure({QStringLiteral("weibull-probability"), kPanel,
                        QObject::tr("probability plot ln(-ln(1-F)) vs ln|w| and the log10|w| histogram of the selected matrix"),
                        QSize(900, 420), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](WeibullPanel* p, const WeibullSection& w) {
                                if (!w.hasPlot)
                                    fail(ErrorKind::BadInput, "weibull: the session stores no probability plot");
                                return std::pair<QCustomPlot*, QString>(p->detail(), QString());
                            });
                        },
                        weibullHelp("detail")});
}

}  // namespace attnscope::widgets
