// The quantization panel in sessions and figures: every matrix's error tables redraw the
// per-layer bars and the error-versus-rank curves at any rank without the model.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/quant_panel.h"
#include "plot/layer_curves_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "quant";
// Keys as the codec and core spell them, in kPanelMethods order.
constexpr std::pair<ReconMethod, const char*> kMethodKeys[] = {{ReconMethod::None, "none"},
                                                                {ReconMethod::Lorc, "lorc"},
                                                                {ReconMethod::Lqer, "lqer"},
                                                                {ReconMethod::QeraApprox, "qera-approx"},
                                                                {ReconMethod::QeraExact, "qera-exact"}};

ReconMethod methodOf(const QString& key) {
    for (auto [m, k] : kMethodKeys)
        if (key == QLatin1String(k)) return m;
    fail(ErrorKind::BadInput, "quant: unknown method '" + key.toStdString() + "' (none, lorc, lqer, qera-approx, qera-exact)");
}
const char* keyOf(ReconMethod m) {
    for (auto [x, k] : kMethodKeys)
        if (x == m) return k;
    return "none";
}

QuantLabView labOf(const QuantSection& q) {
    QuantLabView lab;
    static_cast<QuantLab&>(lab) = q;
    return lab;
}

// Section values, overridden by figure options (--opt rank=8,method_b=lorc,error=weight,matrix=3).
void show(QuantPanel* panel, QuantSection q, const FigureOptions* o = nullptr) {
    if (o) {
        bool ok = true;
        if (const QString r = o->option(QStringLiteral("rank")); !r.isEmpty()) q.rank = r.toInt(&ok);
        if (!ok || q.rank < 0) fail(ErrorKind::BadInput, "quant: --opt rank must be a rank >= 0");
        if (const QString m = o->option(QStringLiteral("matrix")); !m.isEmpty()) q.matrix = m.toInt(&ok);
        if (!ok || q.matrix < 0 || size_t(q.matrix) >= q.matrices.size())
            fail(ErrorKind::BadInput, "quant: --opt matrix must index one of the " + std::to_string(q.matrices.size()) + " matrices");
        q.methodA = o->option(QStringLiteral("method_a"), QString::fromStdString(q.methodA)).toStdString();
        q.methodB = o->option(QStringLiteral("method_b"), QString::fromStdString(q.methodB)).toStdString();
        q.error = o->option(QStringLiteral("error"), QString::fromStdString(q.error)).toStdString();
        if (q.error != "output" && q.error != "weight") fail(ErrorKind::BadInput, "quant: --opt error must be output or weight");
        q.component = o->option(QStringLiteral("component"), QString::fromStdString(q.component)).toStdString();
    }
    const ReconMethod a = methodOf(QString::fromStdString(q.methodA)), b = methodOf(QString::fromStdString(q.methodB));
    panel->setLab(labOf(q));
    panel->setErrorKind(q.error == "weight" ? QuantErrorKind::Weight : QuantErrorKind::Output);
    panel->setComponentFilter(QString::fromStdString(q.component));
    panel->selectMatrix(q.matrix);
    panel->setMethods(a, b);
    panel->setRank(q.rank);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<QuantPanel*>(w);
    if (!panel || panel->lab().matrices.empty()) return false;
    const QuantLabView& lab = panel->lab();
    QuantSection q;
    static_cast<QuantLab&>(q) = lab;
    q.methodA = keyOf(panel->methodA());
    q.methodB = keyOf(panel->methodB());
    q.error = panel->errorKind() == QuantErrorKind::Weight ? "weight" : "output";
    q.component = panel->componentFilter().toStdString();
    q.rank = panel->rank();
    q.matrix = std::max(0, panel->selectedMatrix());
    out = encodeQuant(q);
    return true;
}

QuantSection decodeChecked(const SessionSection& section) {
    QuantSection q = decodeQuant(section);
    methodOf(QString::fromStdString(q.methodA));
    methodOf(QString::fromStdString(q.methodB));
    return q;
}

void restore(QWidget* w, const Session&, const SessionSection& section) {
    if (auto* panel = qobject_cast<QuantPanel*>(w)) show(panel, decodeChecked(section));
}

template <class Pick>
std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, Pick pick) {
    const QuantSection q = decodeChecked(requireSection(session, kPanel, "quantization"));
    if (q.matrices.empty()) fail(ErrorKind::BadInput, "quant: the session stores no quantized matrices");
    auto panel = std::make_unique<QuantPanel>();  // freed if anything throws before detachPlot takes it
    show(panel.get(), q, &o);
    auto [plot, title] = pick(panel.get(), q);
    addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

QString quantTitle(const QuantSection& q) {
    return QObject::tr("%1-bit %2%3")
        .arg(q.quant.bits)
        .arg(QString::fromStdString(q.quant.scheme))
        .arg(q.quant.group > 0 ? QObject::tr(", group %1").arg(q.quant.group) : QString());
}

}  // namespace

void registerQuantPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Quantization error"), save, restore,
                         validateBy(decodeChecked)});
    registry.addFigure({QStringLiteral("quant-error-bars"), kPanel,
                        QObject::tr("per-layer error of two methods at one rank (--opt rank=R,method_a=none,method_b=qera-exact,"
                                    "error=output|weight,component=q)"),
                        QSize(760, 440), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](QuantPanel* p, const QuantSection& q) {
                                return std::pair<QCustomPlot*, QString>(
                                    p->barsPlot(), QObject::tr("Weight quantization error by layer: %1").arg(quantTitle(q)));
                            });
                        },
                        quantHelp("bars")});
    registry.addFigure({QStringLiteral("quant-error-vs-rank"), kPanel,
                        QObject::tr("error against the correction's rank, every method, one matrix (--opt matrix=INDEX,rank=R)"),
                        QSize(700, 460), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](QuantPanel* p, const QuantSection& q) {
                                return std::pair<QCustomPlot*, QString>(
                                    p->curvesPlot(), QObject::tr("Error vs rank: %1").arg(quantTitle(q)));
                            });
                        },
                        quantHelp("rank")});
}

}  // namespace attnscope::widgets
