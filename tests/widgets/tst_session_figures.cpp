// The panel registry: every figure exports to PNG/SVG/PDF/CSV offscreen and parses back
// with the size and page count asked for; every panel's session section survives save ->
// restore -> save bit-exactly; missing or corrupt sections give clear errors. The data are
// synthetic sections built with the core codecs (no model, no torch).
#include <cstring>

#include <QBuffer>
#include <QImage>
#include <QRegularExpression>
#include <QXmlStreamReader>
#include <QtTest>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/a3_panel.h"
#include "panels/variants_panel.h"
#include "panels/attention_maps_panel.h"
#include "panels/head_grid_panel.h"
#include "panels/kv_panel.h"
#include "panels/quant_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "plot/figure_style.h"
#include "plot/kv_keep_map.h"
#include "session/panel_registry.h"
#include "session/panel_sessions.h"
#include "synthetic_session.h"

using namespace attnscope;
using namespace attnscope::widgets;
using sessiontest::syntheticSession;

namespace {

// The built-in panels, registered as the app's panel table registers them (app/gui/panel_table.cpp).
const PanelRegistry& registry() {
    static const PanelRegistry r = [] {
        PanelRegistry out;
        for (auto add :
             {registerAttentionPanel, registerHeadGridPanel, registerSinksPanel, registerWeibullPanel, registerKvPanel,
              registerQuantPanel, registerEntropyPanel, registerA3Panel, registerVariantsPanel})
            add(out);
        return out;
    }();
    return r;
}

void exportFigure(const Session& session, const QString& name, const FigureOptions& options, const QString& path) {
    widgets::exportFigure(registry(), session, name, options, path);
}

}  // namespace

namespace {

int pdfPageCount(const QByteArray& pdf) {
    // Page objects: "/Type /Page" not followed by "s" (that is the page tree).
    static const QRegularExpression re(QStringLiteral("/Type\\s*/Page(?!s)"));
    int n = 0;
    for (auto it = re.globalMatch(QString::fromLatin1(pdf)); it.hasNext(); it.next()) ++n;
    return n;
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool sameSection(const SessionSection& a, const SessionSection& b, QString* why) {
    if (a.params != b.params) {
        *why = QString::fromStdString("params differ: " + nlohmann::json::diff(a.params, b.params).dump());
        return false;
    }
    if (a.tensors.size() != b.tensors.size()) {
        *why = QStringLiteral("tensor count differs");
        return false;
    }
    for (const auto& [name, t] : a.tensors) {
        auto it = b.tensors.find(name);
        if (it == b.tensors.end() || it->second.type != t.type || it->second.shape != t.shape || it->second.bytes != t.bytes) {
            *why = QString::fromStdString("tensor " + name + " differs");
            return false;
        }
    }
    return true;
}

QString errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace

class TestSessionFigures : public QObject {
    Q_OBJECT
private slots:
    void registryListsBuiltinFigures();
    void everyFigureExports_data();
    void everyFigureExports();
    void printStyleChangesFonts();
    void sectionsRoundTripThroughPanels();
    void kvAndQuantSurviveTheFileBitExactly();
    void kvFiguresDrawTheStoredDecisions();
    void quantFiguresDrawTheStoredTables();
    void clearErrors();
};

void TestSessionFigures::registryListsBuiltinFigures() {
    const QStringList names = registry().figureNames();
    for (const char* n : {"attention-map", "head-grid", "sink-map", "sink-levels", "sink-layers", "weibull-k-map",
                          "weibull-k-layers", "weibull-probability", "kv-keep-map", "kv-budget-sweep",
                          "quant-error-bars", "quant-error-vs-rank", "a3-layer-map", "a3-error-vs-rank", "a3-savings",
                          "variant-map-pair", "variant-compare-table", "variant-kl-curve"})
        QVERIFY2(names.contains(QLatin1String(n)), n);
    QCOMPARE(QStringList(names).removeDuplicates(), qsizetype(0));
    for (const char* p : {"attention", "heads", "sinks", "weibull", "kv", "quant", "a3", "variants"})
        QVERIFY(registry().session(p));
}

void TestSessionFigures::everyFigureExports_data() {
    QTest::addColumn<QString>("figure");
    QTest::addColumn<QString>("format");
    for (const QString& f : registry().figureNames())
        for (const char* fmt : {"png", "svg", "pdf", "csv"})
            QTest::newRow(qPrintable(f + QLatin1Char('.') + QLatin1String(fmt))) << f << QString::fromLatin1(fmt);
}

void TestSessionFigures::everyFigureExports() {
    QFETCH(QString, figure);
    QFETCH(QString, format);
    static const Session session = syntheticSession();
    const FigureSpec* spec = registry().figure(figure);
    if (!session.panels.count(spec->panel.toStdString())) QSKIP("no synthetic data for this panel");
    QTemporaryDir dir;
    const QString path = dir.filePath(figure + QLatin1Char('.') + format);
    FigureOptions o;
    o.size = QSize(600, 400);
    o.dpi = 192;  // twice the logical size in pixels
    exportFigure(session, figure, o, path);
    const QByteArray bytes = readFile(path);
    QVERIFY2(!bytes.isEmpty(), qPrintable(path));
    if (format == QLatin1String("png")) {
        QImage img;
        QVERIFY(img.loadFromData(bytes, "PNG"));
        QCOMPARE(img.size(), QSize(1200, 800));
        QCOMPARE(qRound(img.dotsPerMeterX() * 0.0254), 192);
        // Not blank: a figure has ink on its white page.
        int dark = 0;
        for (int y = 0; y < img.height(); y += 4)
            for (int x = 0; x < img.width(); x += 4) dark += qGray(img.pixel(x, y)) < 128;
        QVERIFY2(dark > 50, qPrintable(QStringLiteral("%1 dark samples").arg(dark)));
    } else if (format == QLatin1String("svg")) {
        // Well-formed XML whose root <svg> has the figure's view box, with drawing in it.
        QXmlStreamReader xml(bytes);
        QString viewBox;
        int elements = 0;
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement) continue;
            ++elements;
            if (xml.name() == QLatin1String("svg")) viewBox = xml.attributes().value(QLatin1String("viewBox")).toString();
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QCOMPARE(viewBox, QStringLiteral("0 0 600 400"));
        QVERIFY(elements > 20);
    } else if (format == QLatin1String("pdf")) {
        QVERIFY(bytes.startsWith("%PDF-"));
        QCOMPARE(pdfPageCount(bytes), 1);
        // The MediaBox is the figure's size in points (QCustomPlot::savePdf: 1 px = 1 pt).
        static const QRegularExpression box(QStringLiteral("/MediaBox\\s*\\[\\s*0\\s+0\\s+([0-9.]+)\\s+([0-9.]+)"));
        const auto m = box.match(QString::fromLatin1(bytes));
        QVERIFY(m.hasMatch());
        QCOMPARE(qRound(m.captured(1).toDouble()), 600);
        QCOMPARE(qRound(m.captured(2).toDouble()), 400);
    } else {
        const QStringList lines = QString::fromUtf8(bytes).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(lines.size() >= 3, qPrintable(QString::fromUtf8(bytes.left(200))));
        QVERIFY(lines[0].contains(QLatin1Char(',')));
    }
}

void TestSessionFigures::printStyleChangesFonts() {
    const Session session = syntheticSession();
    FigureOptions o;
    o.style = FigureStyle::Print;
    auto plot = registry().figure(QStringLiteral("sink-layers"))->render(session, o);
    applyFigureStyle(plot.get(), FigureStyle::Print);
    const FigureStyleSpec spec = figureStyleSpec(FigureStyle::Print);
    QCOMPARE(plot->xAxis->tickLabelFont().pointSizeF(), spec.basePt);
    QCOMPARE(plot->xAxis->labelFont().pointSizeF(), spec.labelPt);
    QCOMPARE(plot->xAxis->labelFont().family(), spec.family);
    QCOMPARE(plot->xAxis->basePen().color(), QColor(Qt::black));
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->lineStyle() != QCPGraph::lsNone) QVERIFY(plot->graph(i)->pen().widthF() >= spec.lineWidth);
}

void TestSessionFigures::sectionsRoundTripThroughPanels() {
    // restore(section) then save() gives the section back, tensor bytes and parameters:
    // what the GUI saves is what it was given.
    const Session session = syntheticSession();
    std::vector<std::pair<const char*, QWidget*>> panels = {{"attention", new AttentionMapsPanel},
                                                            {"heads", new HeadGridPanel},
                                                            {"sinks", new SinksPanel},
                                                            {"weibull", new WeibullPanel},
                                                            {"kv", new KvPanel},
                                                            {"quant", new QuantPanel},
                                                            {"a3", new A3Panel},
                                                            {"variants", new VariantsPanel}};
    for (auto& [id, panel] : panels) {
        const PanelSessionSpec* spec = registry().session(QString::fromLatin1(id));
        const SessionSection& stored = session.panels.at(id);
        spec->restore(panel, session, stored);
        SessionSection saved;
        QVERIFY2(spec->save(panel, saved), id);
        SessionSection expected = stored;
        if (std::string(id) == "attention") {  // the panel shows (and saves) the selected map only
            AttentionSection a = decodeAttention(stored);
            a.maps = {*a.find(a.layer, a.head)};
            a.nLayers = a.nHeads = 0;  // the app adds the model shape
            expected = encodeAttention(a);
            saved.params["layers"] = 0;
            saved.params["heads"] = 0;
        }
        QString why;
        QVERIFY2(sameSection(expected, saved, &why), qPrintable(QString::fromLatin1(id) + QStringLiteral(": ") + why));
        delete panel;
    }
}

namespace {

template <class T>
bool sameBits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}
bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool sameSelection(const KvSelection& a, const KvSelection& b) {
    return a.policy == b.policy && a.granularity == b.granularity && a.mode == b.mode && a.precision == b.precision &&
           a.highBits == b.highBits && a.lowBits == b.lowBits && a.T == b.T && a.promptLength == b.promptLength &&
           a.nLayers == b.nLayers && a.nHeads == b.nHeads && a.nKvHeads == b.nKvHeads && a.heads == b.heads &&
           a.kept == b.kept && a.until == b.until && a.layerBudget == b.layerBudget;
}

bool sameParams(const KvParams& a, const KvParams& b) {
    return a.policy == b.policy && a.budget == b.budget && a.mode == b.mode && a.values == b.values;
}

}  // namespace

void TestSessionFigures::kvAndQuantSurviveTheFileBitExactly() {
    // Through a real .attnscope file: every decoded number has the bits of the synthetic input.
    QTemporaryDir dir;
    const std::string path = dir.filePath("kvq.attnscope").toStdString();
    saveSession(path, syntheticSession());
    const Session back = loadSession(path);
    const KvSection want = sessiontest::syntheticKv(), k = decodeKv(back.panels.at("kv"));
    QVERIFY(sameParams(k.params, want.params));
    QVERIFY(sameParams(k.compareParams, want.compareParams));
    QVERIFY(sameSelection(k.selection, want.selection));
    QVERIFY(sameSelection(k.compare, want.compare));
    QCOMPARE(k.hasCompare, true);
    QCOMPARE(k.hasEndToEnd, true);
    QCOMPARE(k.policies.size(), want.policies.size());
    for (size_t i = 0; i < k.policies.size(); ++i) {
        QCOMPARE(k.policies[i].name, want.policies[i].name);
        QCOMPARE(k.policies[i].params.size(), want.policies[i].params.size());
        for (size_t j = 0; j < k.policies[i].params.size(); ++j) {
            QVERIFY(sameBits(k.policies[i].params[j].maxValue, want.policies[i].params[j].maxValue));
            QVERIFY(k.policies[i].params[j].choices == want.policies[i].params[j].choices);
        }
    }
    QVERIFY(k.tokens.ids == want.tokens.ids && k.tokens.pieces == want.tokens.pieces);
    QCOMPARE(k.metrics.queries, want.metrics.queries);
    QVERIFY(sameBits(k.metrics.retainedMass, want.metrics.retainedMass));
    QVERIFY(sameBits(k.metrics.outputRelErr, want.metrics.outputRelErr));
    QCOMPARE(k.metrics.layers.size(), want.metrics.layers.size());
    for (size_t l = 0; l < k.metrics.layers.size(); ++l) {
        const KvLayerMetrics &a = k.metrics.layers[l], &b = want.metrics.layers[l];
        QVERIFY(sameBits(a.retainedMass, b.retainedMass) && sameBits(a.outputRelErr, b.outputRelErr) &&
                sameBits(a.residErr, b.residErr) && sameBits(a.layerRelErr, b.layerRelErr));
        QVERIFY(sameBits(a.headRetainedMass, b.headRetainedMass) && sameBits(a.headOutputRelErr, b.headOutputRelErr) &&
                sameBits(a.headResidErr, b.headResidErr));
    }
    QCOMPARE(k.endToEnd.steps, want.endToEnd.steps);
    for (auto [x, y] : {std::pair{k.endToEnd.kl, want.endToEnd.kl}, {k.endToEnd.top1, want.endToEnd.top1},
                        {k.endToEnd.ppl, want.endToEnd.ppl}, {k.endToEnd.pplFull, want.endToEnd.pplFull}})
        QVERIFY(sameBits(x, y));
    QVERIFY(sameBits(k.endToEnd.stepKl, want.endToEnd.stepKl) && k.endToEnd.stepTop1 == want.endToEnd.stepTop1);
    QCOMPARE(k.sweep.size(), want.sweep.size());
    for (size_t i = 0; i < k.sweep.size(); ++i) {
        const KvSweepRow &a = k.sweep[i], &b = want.sweep[i];
        QVERIFY(a.policy == b.policy && a.budget == b.budget);
        for (auto [x, y] : {std::pair{a.kl, b.kl}, {a.top1, b.top1}, {a.ppl, b.ppl}, {a.pplFull, b.pplFull},
                            {a.retainedMass, b.retainedMass}, {a.outputRelErr, b.outputRelErr}})
            QVERIFY(sameBits(x, y));
    }
    QVERIFY(k.sinks == want.sinks && k.sweepMetric == want.sweepMetric && k.sweepLog == want.sweepLog && k.step == want.step);

    const QuantSection wq = sessiontest::syntheticQuant(), q = decodeQuant(back.panels.at("quant"));
    QVERIFY(q.quant.scheme == wq.quant.scheme && q.quant.bits == wq.quant.bits && q.quant.group == wq.quant.group &&
            q.quant.mseClip == wq.quant.mseClip && q.quant.bf16Input == wq.quant.bf16Input);
    QVERIFY(q.calibTokens == wq.calibTokens && q.methodA == wq.methodA && q.methodB == wq.methodB &&
            q.error == wq.error && q.component == wq.component && q.rank == wq.rank && q.matrix == wq.matrix);
    QCOMPARE(q.matrices.size(), wq.matrices.size());
    for (size_t i = 0; i < q.matrices.size(); ++i) {
        const QuantMatrix &a = q.matrices[i], &b = wq.matrices[i];
        QVERIFY(a.name == b.name && a.layer == b.layer && a.component == b.component && a.rows == b.rows &&
                a.cols == b.cols && a.input == b.input);
        QVERIFY(sameBits(q.quantOnly[i].weightRelErr, wq.quantOnly[i].weightRelErr) &&
                sameBits(q.quantOnly[i].outputRelErr, wq.quantOnly[i].outputRelErr) &&
                sameBits(q.quantOnly[i].mse, wq.quantOnly[i].mse));
        QCOMPARE(q.curves[i].size(), wq.curves[i].size());
        for (size_t m = 0; m < q.curves[i].size(); ++m) {
            const ReconCurve &a2 = q.curves[i][m], &b2 = wq.curves[i][m];
            QVERIFY(a2.method == b2.method && sameBits(a2.weightRelErr, b2.weightRelErr) &&
                    sameBits(a2.outputRelErr, b2.outputRelErr) && sameBits(a2.mse, b2.mse) && sameBits(a2.sigma, b2.sigma));
        }
    }
}

void TestSessionFigures::kvFiguresDrawTheStoredDecisions() {
    const Session session = syntheticSession();
    const KvSection k = sessiontest::syntheticKv();
    FigureOptions o;
    o.layer = 2;
    auto plot = registry().figure(QStringLiteral("kv-keep-map"))->render(session, o);
    auto* map = qobject_cast<KvKeepMap*>(plot.get());
    QVERIFY(map);
    // Rows: every layer, then the query heads of layer 2 under it; columns: the prompt.
    const Matrix2D& m = map->matrix();
    QCOMPARE(m.rows, int64_t(sessiontest::kL + sessiontest::kH));
    QCOMPARE(m.cols, sessiontest::kT);
    auto keeps = [&](int l, int h, int64_t j) {
        const auto& kept = k.selection.kept[size_t(l)][size_t(h)];
        return std::count(kept.begin(), kept.end(), j) ? 1.0 : 0.0;
    };
    for (int row = 0; row < int(m.rows); ++row) {
        // Layer rows 0..2, layer 2's heads, then layer 3.
        const int l = row <= 2 ? row : row < 3 + sessiontest::kH ? 2 : row - sessiontest::kH;
        const int h = row > 2 && row < 3 + sessiontest::kH ? row - 3 : -1;
        for (int64_t j = 0; j < m.cols; ++j) {
            double want = 0;
            if (h >= 0) want = keeps(l, h, j);
            else {
                for (int hh = 0; hh < sessiontest::kH; ++hh) want += keeps(l, hh, j);
                want /= sessiontest::kH;
            }
            QVERIFY2(std::abs(m.at(row, j) - want) < 1e-6, qPrintable(QStringLiteral("row %1 token %2").arg(row).arg(j)));
        }
    }
    QVERIFY(map->sinkPositions() == k.sinks);
    // B and A - B: StreamingLLM keeps {0, 1, 9, 10, 11} in every layer.
    o.extra = {{QStringLiteral("map"), QStringLiteral("diff")}};
    plot = registry().figure(QStringLiteral("kv-keep-map"))->render(session, o);
    const Matrix2D& d = qobject_cast<KvKeepMap*>(plot.get())->matrix();
    const double inB[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    for (int64_t j = 0; j < d.cols; ++j) QVERIFY(std::abs(d.at(0, j) - ((keeps(0, 0, j) + keeps(0, 1, j) + keeps(0, 2, j)) / 3 - inB[j])) < 1e-6);

    // The sweep: one curve per policy, the stored metric (top1, linear) at every budget.
    plot = registry().figure(QStringLiteral("kv-budget-sweep"))->render(session, {});
    QCOMPARE(plot->graphCount(), 2);
    QVERIFY(plot->yAxis->scaleType() == QCPAxis::stLinear);
    for (int g = 0; g < 2; ++g) {
        QCPGraph* graph = plot->graph(g);
        int n = 0;
        for (const KvSweepRow& r : k.sweep) {
            if (QString::fromStdString(r.policy) != graph->name()) continue;
            QCOMPARE(graph->data()->at(n)->key, double(r.budget));
            QCOMPARE(graph->data()->at(n)->value, r.top1);
            ++n;
        }
        QCOMPARE(n, graph->data()->size());
    }
    FigureOptions kl;
    kl.extra = {{QStringLiteral("metric"), QStringLiteral("kl")}, {QStringLiteral("log"), QStringLiteral("1")}};
    plot = registry().figure(QStringLiteral("kv-budget-sweep"))->render(session, kl);
    QVERIFY(plot->yAxis->scaleType() == QCPAxis::stLogarithmic);
    QCOMPARE(plot->graph(0)->data()->size(), 3);  // KL = 0 at B = T has no place on a log axis
}

void TestSessionFigures::quantFiguresDrawTheStoredTables() {
    const Session session = syntheticSession();
    const QuantSection q = sessiontest::syntheticQuant();
    FigureOptions o;
    o.extra = {{QStringLiteral("rank"), QStringLiteral("6")}};
    auto plot = registry().figure(QStringLiteral("quant-error-bars"))->render(session, o);
    // Bars of LoRC and QERA-exact: per layer the mean weight error of q (rank 6) and down (clamped at 4).
    int bars = 0;
    for (int i = 0; i < plot->plottableCount(); ++i) {
        auto* b = qobject_cast<QCPBars*>(plot->plottable(i));
        if (!b) continue;
        const ReconMethod m = bars++ == 0 ? ReconMethod::Lorc : ReconMethod::QeraExact;
        QCOMPARE(b->data()->size(), sessiontest::kL);
        for (int l = 0; l < sessiontest::kL; ++l) {
            double want = 0;
            for (int c = 0; c < 2; ++c) {
                const int i2 = 2 * l + c, r = std::min(6, c == 0 ? 8 : 4);
                want += (0.2 + 0.01 * i2) / (1.0 + 0.1 * int(m) * r) / 2 / 2;
            }
            QVERIFY2(std::abs(b->data()->at(l)->value - want) < 1e-12, qPrintable(QStringLiteral("bar %1 layer %2").arg(bars).arg(l)));
        }
    }
    QCOMPARE(bars, 2);
    o.extra = {{QStringLiteral("matrix"), QStringLiteral("3")}};
    plot = registry().figure(QStringLiteral("quant-error-vs-rank"))->render(session, o);
    QCOMPARE(plot->graphCount(), 5);  // RTN and the four reconstructions
    for (int g = 0; g < plot->graphCount(); ++g) QCOMPARE(plot->graph(g)->data()->size(), 5);  // down: ranks 0..4
}

void TestSessionFigures::clearErrors() {
    Session session = syntheticSession();
    FigureOptions o;
    QTemporaryDir dir;
    QString e = errorOf([&] { exportFigure(session, QStringLiteral("no-such-figure"), o, dir.filePath("x.png")); });
    QVERIFY2(e.contains("unknown figure") && e.contains("attention-map"), qPrintable(e));
    e = errorOf([&] { exportFigure(session, QStringLiteral("head-grid"), o, dir.filePath("x.bmp")); });
    QVERIFY2(e.contains(".png, .svg, .pdf or .csv"), qPrintable(e));
    o.layer = 3;
    o.head = 7;
    e = errorOf([&] { exportFigure(session, QStringLiteral("attention-map"), o, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no attention map for layer 3, head 7"), qPrintable(e));
    session.panels.erase("sinks");
    e = errorOf([&] { exportFigure(session, QStringLiteral("sink-map"), {}, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no attention sink results"), qPrintable(e));
    // A section with a wrongly shaped tensor: validate refuses it before any panel changes.
    Session bad = syntheticSession();
    bad.panels["heads"].tensors["previous_token"] = SessionTensor::f32({2}, {1.f, 2.f});
    e = errorOf([&] { registry().session("heads")->validate(bad, bad.panels["heads"]); });
    QVERIFY2(e.contains("heads/previous_token") && e.contains("shape"), qPrintable(e));
    bad = syntheticSession();
    bad.tokenIds.pop_back();
    bad.tokenPieces.pop_back();
    e = errorOf([&] { registry().session("sinks")->validate(bad, bad.panels["sinks"]); });
    QVERIFY2(e.contains("the prompt has"), qPrintable(e));
    // KV and quantization: absent results, bad options, a corrupt section.
    Session noSweep = syntheticSession();
    KvSection k = sessiontest::syntheticKv();
    k.sweep.clear();
    k.hasCompare = false;
    noSweep.panels["kv"] = encodeKv(k);
    e = errorOf([&] { exportFigure(noSweep, QStringLiteral("kv-budget-sweep"), {}, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no budget sweep"), qPrintable(e));
    FigureOptions mapB;
    mapB.extra = {{QStringLiteral("map"), QStringLiteral("b")}};
    e = errorOf([&] { exportFigure(noSweep, QStringLiteral("kv-keep-map"), mapB, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no pinned policy B"), qPrintable(e));
    FigureOptions badRank;
    badRank.extra = {{QStringLiteral("matrix"), QStringLiteral("99")}};
    e = errorOf([&] { exportFigure(syntheticSession(), QStringLiteral("quant-error-vs-rank"), badRank, dir.filePath("x.png")); });
    QVERIFY2(e.contains("--opt matrix"), qPrintable(e));
    bad = syntheticSession();
    bad.panels["kv"].tensors["sel.kept_count"] = SessionTensor::i64({sessiontest::kL, sessiontest::kH}, std::vector<int64_t>(size_t(sessiontest::kL * sessiontest::kH), 7));
    e = errorOf([&] { registry().session("kv")->validate(bad, bad.panels["kv"]); });
    QVERIFY2(e.contains("kv: sel.kept"), qPrintable(e));  // counts and sets disagree: refused, whichever shows first
    bad = syntheticSession();
    bad.panels["quant"].tensors["curves.length"].bytes[0] ^= 0x40;  // a length past the stored values
    e = errorOf([&] { registry().session("quant")->validate(bad, bad.panels["quant"]); });
    QVERIFY2(e.contains("curves.length"), qPrintable(e));
    QVERIFY(!QFile::exists(dir.filePath("x.png")));
}

QTEST_MAIN(TestSessionFigures)
#include "tst_session_figures.moc"
