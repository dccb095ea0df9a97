// The analysis panels draw exactly the plain results they are given (built here by hand,
// no core, no torch): sinks, Weibull k map, head grid.
#include <cmath>
#include <limits>

#include <QComboBox>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

#include "panels/head_grid_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "panels/weibull_series_view.h"
#include "plot/colormaps.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/sink_scatter_plot.h"
#include "plot/weibull_detail_plot.h"
#include "plot/weibull_series_plot.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

constexpr int kT = 7, kL = 4;

float value(int q, int l, int t) { return float(q * 100 + l * 10 + t) / 128.f; }

SinkToken sink(int64_t t, SinkClass cls, std::vector<int> layers) {
    SinkToken s;
    s.token = t;
    s.cls = cls;
    s.layers = std::move(layers);
    s.lifetime = int(s.layers.size());
    s.creationLayer = s.layers.front();
    s.meanScore = 0.25f;
    return s;
}

// Token 0 is the primary (all layers), tokens 3 and 4 secondary (layers 1-2), 6 noise.
SinkResult sinkResult() {
    SinkResult r;
    r.T = kT;
    r.nLayers = kL;
    r.primary = 0;
    r.onset = 0;
    r.offset = kL;
    for (int l = 0; l < kL; ++l) {
        SinkLayer layer;
        for (int t = 0; t < kT; ++t) {
            layer.sinkScore.push_back(value(0, l, t));
            layer.fracHeads.push_back(value(1, l, t));
            layer.cosToPrimary.push_back(t % 2 ? -value(2, l, t) / 4 : value(2, l, t) / 4);  // signed
            layer.hiddenNorm.push_back(value(3, l, t));
        }
        layer.primaryStrength = 0.5f + 0.1f * float(l);
        layer.weakening = 0.1f * float(l);
        layer.secondaryCreated = l == 1 ? 2 : 0;
        r.layers.push_back(layer);
    }
    r.sinks = {sink(0, SinkClass::Primary, {0, 1, 2, 3}), sink(3, SinkClass::Secondary, {1, 2}),
               sink(4, SinkClass::Secondary, {1, 2}), sink(6, SinkClass::Noise, {3})};
    r.levels = {SinkLevel{0, 4, 1, 0.25f, SinkClass::Primary, {0}}, SinkLevel{1, 2, 2, 0.25f, SinkClass::Secondary, {3, 4}},
                SinkLevel{3, 1, 1, 0.25f, SinkClass::Noise, {6}}};
    return r;
}

attnscope::TokenStrip tokens() {
    attnscope::TokenStrip s;
    for (int t = 0; t < kT; ++t) {
        s.ids.push_back(t);
        s.pieces.push_back(t == 0 ? "<s>" : "\u2581w" + std::to_string(t));
    }
    return s;
}

WeibullMatrixFit fit(int layer, const char* component, double k, double lambda) {
    WeibullMatrixFit m;
    m.name = layer >= 0 ? "layers." + std::to_string(layer) + "." + component : component;
    m.layer = layer;
    m.component = component;
    m.shape = {64, 64};
    m.fit.ok = true;
    m.fit.k = k;
    m.fit.lambda = lambda;
    m.fit.r2 = 0.999;
    m.fit.cls = "transmission";
    return m;
}

std::vector<double> xs(const QCPGraph* g) {
    std::vector<double> out;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) out.push_back(it->key);
    return out;
}

void click(MatrixPlot* plot, int row, int col) {
    plot->replot();
    QTest::mouseClick(plot, Qt::LeftButton, {}, plot->cellCenter(row, col).toPoint());
}

}  // namespace

class TestAnalysisPanels : public QObject {
    Q_OBJECT
private slots:
    void sinksMapShowsGivenValues() {
        SinksPanel panel;
        panel.setTokens(tokens());
        panel.setResult(sinkResult());
        QCPColorMapData* d = panel.tokenMap()->colorMap()->data();
        QCOMPARE(d->keySize(), kT);
        QCOMPARE(d->valueSize(), kL);
        for (SinkQuantity q : kAllSinkQuantities) {
            panel.setQuantity(q);
            const int qi = int(q);
            for (int l = 0; l < kL; ++l) {
                for (int t = 0; t < kT; ++t) {
                    // |cos| is shown for the cosine; everything else as given.
                    const float expected = q == SinkQuantity::AbsCos ? value(2, l, t) / 4 : value(qi, l, t);
                    QCOMPARE(d->cell(t, l), double(expected));
                }
            }
        }
        QCOMPARE(panel.tokenMap()->columnLabel(3), QStringLiteral("\u00b7w3"));
    }

    void sinksMarksGivenTokensByClass() {
        SinksPanel panel;
        panel.setTokens(tokens());
        panel.setResult(sinkResult());
        QCOMPARE(xs(panel.classMarks(SinkClass::Primary)), (std::vector<double>{0, 0, 0, 0}));
        QCOMPARE(xs(panel.classMarks(SinkClass::Secondary)), (std::vector<double>{3, 3, 4, 4}));
        QCOMPARE(xs(panel.classMarks(SinkClass::Noise)), (std::vector<double>{6}));
        // One mark per flagged layer, at that layer's row.
        QCOMPARE(panel.classMarks(SinkClass::Noise)->data()->constBegin()->value, 3.0);
        QVERIFY(panel.classMarks(SinkClass::Primary)->scatterStyle().brush().color() != panel.classMarks(SinkClass::Secondary)->scatterStyle().brush().color());
    }

    void sinksLevelClickEmitsItsTokens() {
        SinksPanel panel;
        panel.resize(1200, 800);
        panel.setTokens(tokens());
        panel.setResult(sinkResult());
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        MatrixPlot* levels = panel.levelMap();
        QCOMPARE(levels->colorMap()->data()->cell(1, 1), double(std::log1p(2.0f)));  // lifetime 2, layer 1
        QVERIFY(std::isnan(levels->colorMap()->data()->cell(0, 0)));                // no sink there
        QSignalSpy spy(&panel, &SinksPanel::tokensSelected);
        click(levels, /*lifetime 2*/ 1, /*creation layer*/ 1);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).value<QList<qint64>>(), (QList<qint64>{3, 4}));
        QCOMPARE(panel.selectedToken(), 3);
        QVERIFY(panel.tokenInfo().contains(QStringLiteral("secondary")));
        // The selected token's curves: cos to primary per layer.
        QCOMPARE(panel.tokenPlot()->graph(0)->dataCount(), kL);
        QCOMPARE(panel.tokenPlot()->graph(0)->data()->at(2)->value, double(-value(2, 2, 3) / 4));
        // An empty level cell emits nothing.
        click(levels, 0, 0);
        QCOMPARE(spy.count(), 1);
    }

    void sinksMlpAtCreationAndScatter() {
        // MLP outputs on every layer; ρ and cos(y, y_p0) at creation set per sink.
        SinkResult r = sinkResult();
        for (int l = 0; l < kL; ++l)
            for (int t = 0; t < kT; ++t) {
                r.layers[size_t(l)].mlpNorm.push_back(value(4, l, t));
                r.layers[size_t(l)].mlpCosToPrimary.push_back(value(5, l, t) / 8);
            }
        const float rho[] = {4.f, 2.f, 3.f, 1.f}, cosy[] = {1.f, 0.875f, 0.5f, -0.25f}, score[] = {0.9f, 0.4f, 0.5f, 0.1f};
        for (size_t i = 0; i < r.sinks.size(); ++i) {
            r.sinks[i].mlpNormAtCreation = rho[i];
            r.sinks[i].mlpCosAtCreation = cosy[i];
            r.sinks[i].meanScore = score[i];
        }
        SinksPanel panel;
        panel.setTokens(tokens());
        panel.setResult(r);
        panel.selectToken(3);  // secondary, created at layer 1
        QVERIFY(panel.tokenInfo().contains(QStringLiteral("creation layer 1")));
        QVERIFY(panel.tokenInfo().contains(QStringLiteral("\u2016y\u2016 = 2")));
        QVERIFY(panel.tokenInfo().contains(QStringLiteral("cos(y, y at p0) = 0.875")));
        // The dotted MLP curve: cos(y, y_p0) of token 3 in every layer.
        QCPGraph* mlp = panel.tokenPlot()->graph(3);
        QCOMPARE(mlp->dataCount(), kL);
        QCOMPARE(mlp->data()->at(2)->value, double(value(5, 2, 3) / 8));
        // The creation layer is marked by a vertical line at x = 1 labelled with both numbers.
        bool marked = false;
        for (int i = 0; i < panel.tokenPlot()->itemCount(); ++i)
            if (auto* line = qobject_cast<QCPItemStraightLine*>(panel.tokenPlot()->item(i)))
                marked = marked || (line->point1->coords().x() == 1.0 && line->point2->coords().x() == 1.0);
        QVERIFY(marked);

        // The scatter: one point per sink, by class, and the line through them.
        SinkScatterPlot* sc = panel.scatterPlot();
        QCOMPARE(xs(sc->classGraph(SinkClass::Primary)), (std::vector<double>{4}));
        QCOMPARE(xs(sc->classGraph(SinkClass::Secondary)), (std::vector<double>{2, 3}));
        QCOMPARE(xs(sc->classGraph(SinkClass::Noise)), (std::vector<double>{1}));
        // Pearson r of (ρ, score) over the 4 sinks, by the textbook formula.
        const double x[] = {4, 2, 3, 1}, y[] = {0.9, 0.4, 0.5, 0.1};
        double mx = 0, my = 0;
        for (int i = 0; i < 4; ++i) mx += x[i] / 4, my += double(float(y[i])) / 4;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < 4; ++i) {
            const double dx = x[i] - mx, dy = double(float(y[i])) - my;
            sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
        }
        const double rExpected = sxy / std::sqrt(sxx * syy);
        QVERIFY(sc->fitText().startsWith(QStringLiteral("r = %1").arg(rExpected, 0, 'f', 2)));
        QCOMPARE(sc->fitGraph()->dataCount(), 2);
        const double slope = sxy / sxx;
        const auto a = sc->fitGraph()->data()->at(0);
        const auto b = sc->fitGraph()->data()->at(1);
        QVERIFY(std::abs((b->value - a->value) / (b->key - a->key) - slope) < 1e-9);
        // Lifetime on the vertical axis: λ = 4, 2, 2, 1.
        auto* choice = panel.findChild<QComboBox*>(QStringLiteral("sinkScatterY"));
        QVERIFY(choice);
        choice->setCurrentIndex(1);
        QCOMPARE(sc->yAxisChoice(), SinkScatterPlot::YAxis::Lifetime);
        QCOMPARE(sc->classGraph(SinkClass::Secondary)->data()->at(0)->value, 2.0);

        // One sink: no r, said so.
        SinkResult one = r;
        one.sinks.resize(1);
        panel.setResult(one);
        QVERIFY(sc->fitText().contains(QStringLiteral("r undefined: fewer than 2 sinks")));
        QCOMPARE(sc->fitGraph()->dataCount(), 0);
        // No MLP outputs at all.
        panel.setResult(sinkResult());
        QVERIFY(sc->fitText().contains(QStringLiteral("no MLP outputs")));
        QCOMPARE(sc->classGraph(SinkClass::Primary)->dataCount(), 0);
    }

    void sinksParameterEditsAreReported() {
        SinksPanel panel;
        QSignalSpy spy(&panel, &SinksPanel::paramsChanged);
        SinkParams p;
        p.epsilon = 0.2;
        panel.setParams(p);  // following: silent
        QCOMPARE(spy.count(), 0);
        QCOMPARE(panel.params().epsilon, 0.2);
        auto* spin = panel.findChild<QDoubleSpinBox*>();
        spin->setValue(0.45);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).value<SinkParams>().epsilon, 0.45);
    }

    void weibullMapShowsGivenK() {
        WeibullPanel panel;
        const std::vector<WeibullMatrixFit> fits = {fit(-1, "embed", 1.31, 0.02), fit(0, "q", 1.1, 0.03),
                                                    fit(0, "o", 1.2, 0.04), fit(1, "q", 1.05, 0.05),
                                                    fit(1, "down", 1.19, 0.06)};
        panel.setFits(fits);
        MatrixPlot* map = panel.map();
        // Rows: layers 0, 1, then "outside"; columns in the fixed order q, o, down, embed.
        QCOMPARE(map->matrix().rows, 3);
        QCOMPARE(map->matrix().cols, 4);
        QCOMPARE(map->columnLabel(0), QStringLiteral("q"));
        QCOMPARE(map->columnLabel(3), QStringLiteral("embed"));
        QCPColorMapData* d = map->colorMap()->data();
        QCOMPARE(d->cell(0, 0), double(float(1.1)));
        QCOMPARE(d->cell(1, 0), double(float(1.2)));
        QCOMPARE(d->cell(0, 1), double(float(1.05)));
        QCOMPARE(d->cell(2, 1), double(float(1.19)));
        QCOMPARE(d->cell(3, 2), double(float(1.31)));
        QVERIFY(std::isnan(d->cell(2, 0)));  // no down matrix in layer 0
        // Centred: the anchor is the middle of the colour range and gets the middle colour.
        const QCPRange range = map->colorMap()->dataRange();
        QCOMPARE(range.center(), kWeibullHalfNormalK);
        QCPColorGradient g = map->colorMap()->gradient();
        QCOMPARE(QColor(g.color(kWeibullHalfNormalK, range)), QColor(0xf7, 0xf7, 0xf7));
        QCOMPARE(g.color(kWeibullHalfNormalK, range), g.color(0.5, QCPRange(0, 1)));
        QVERIFY(QColor(g.color(1.05, range)).blue() > QColor(g.color(1.05, range)).red());  // below: blue
        QVERIFY(QColor(g.color(1.31, range)).red() > QColor(g.color(1.31, range)).blue());  // above: red
        QCOMPARE(panel.lambdaMap()->colorMap()->data()->cell(2, 1), double(float(0.06)));  // λ alongside
        // k against layer: one curve per component with layers.
        QCOMPARE(panel.curves()->graphCount(), 3);
    }

    void weibullCellShowsTable() {
        WeibullPanel panel;
        panel.resize(1000, 700);
        panel.setFits({fit(0, "q", 1.1, 0.03), fit(1, "q", 1.05, 0.05)});
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QSignalSpy spy(&panel, &WeibullPanel::matrixSelected);
        click(panel.map(), 1, 0);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("layers.1.q"));
        QCOMPARE(panel.table()->item(0, 1)->text().remove(QChar(0x200b)), QStringLiteral("layers.1.q"));
        bool hasK = false;
        for (int r = 0; r < panel.table()->rowCount(); ++r)
            hasK = hasK || panel.table()->item(r, 1)->text().startsWith(QStringLiteral("1.0500"));
        QVERIFY(hasK);
    }

    void weibullSeriesShowsMeanPerStep() {
        // Three checkpoints; q has two layers (mean taken here by hand), o one; one q fit
        // failed at step 300 and must not count.
        std::vector<WeibullSeriesPoint> series(3);
        const int64_t steps[] = {0, 300, 1200};
        const double q0[] = {1.20, 1.15, 1.05}, q1[] = {1.21, 1.11, 1.01}, o[] = {1.20, 1.195, 1.19};
        for (size_t i = 0; i < 3; ++i) {
            series[i].checkpoint = {steps[i], "/ckpt"};
            series[i].fits = {fit(0, "q", q0[i], 0.02 + 0.01 * double(i)), fit(1, "q", q1[i], 0.04), fit(0, "o", o[i], 0.03)};
        }
        series[1].fits[1].fit.ok = false;
        WeibullPanel panel;
        panel.resize(1000, 700);
        QSignalSpy asked(panel.seriesView(), &WeibullSeriesView::requested);
        panel.seriesView()->request(QStringLiteral("/runs/exp1"));
        QCOMPARE(asked.count(), 1);
        QCOMPARE(asked.at(0).at(0).toString(), QStringLiteral("/runs/exp1"));
        panel.seriesView()->setSeries(series, QStringLiteral("exp1"));
        WeibullSeriesPlot* plot = panel.seriesView()->plot();
        const QCPGraph* qk = plot->componentGraph(QStringLiteral("q"), false);
        const QCPGraph* ok = plot->componentGraph(QStringLiteral("o"), false);
        const QCPGraph* ql = plot->componentGraph(QStringLiteral("q"), true);
        QVERIFY(qk && ok && ql);
        QCOMPARE(xs(qk), (std::vector<double>{0, 300, 1200}));
        const double wantQ[] = {(1.20 + 1.21) / 2, 1.15, (1.05 + 1.01) / 2};
        for (int i = 0; i < 3; ++i) {
            QVERIFY(std::abs(qk->data()->at(i)->value - wantQ[i]) < 1e-12);
            QCOMPARE(ok->data()->at(i)->value, o[i]);
        }
        QVERIFY(std::abs(ql->data()->at(2)->value - (0.04 + 0.04) / 2) < 1e-12);
        QCOMPARE(qk->valueAxis()->axisRect(), plot->kRect());
        QCOMPARE(ql->valueAxis()->axisRect(), plot->lambdaRect());
        // The Transmission band, the anchor and the lowest mean lie inside the k axis range.
        const QCPRange r = plot->kRect()->axis(QCPAxis::atLeft)->range();
        QVERIFY(r.contains(kWeibullTransmissionLo) && r.contains(kWeibullHalfNormalK) && r.contains((1.05 + 1.01) / 2));
    }

    void weibullProbabilityLineMatchesFit() {
        // Points on an exact Weibull(k, λ) probability plot; the drawn line must be
        // y = k (x − ln λ), the shaded window the fit's, and the density peak at the mode.
        const double k = 1.3, lambda = 0.05;
        WeibullPlot p;
        for (int i = 1; i <= 99; ++i) {
            const double F = i / 100.0, w = lambda * std::pow(-std::log1p(-F), 1 / k);
            p.lnAbs.push_back(std::log(w));
            p.y.push_back(std::log(-std::log1p(-F)));
        }
        p.log10Counts.assign(1024, 0.0);
        for (int b = 700; b < 800; ++b) p.log10Counts[size_t(b)] = 10;
        WeibullResult r;
        r.ok = true;
        r.k = k;
        r.lambda = lambda;
        r.windowLnLo = p.lnAbs[9];
        r.windowLnHi = p.lnAbs[89];
        WeibullDetailPlot plot;
        plot.setData(p, r, QStringLiteral("m"));
        const QCPGraph* line = plot.graph(1);
        QVERIFY(line->dataCount() >= 2);
        for (int i = 0; i < line->dataCount(); ++i) {
            const double x = line->data()->at(i)->key;
            QVERIFY(std::abs(line->data()->at(i)->value - k * (x - std::log(lambda))) < 1e-9);
        }
        for (size_t i = 0; i < p.lnAbs.size(); ++i)  // the points lie on that line
            QVERIFY(std::abs(p.y[i] - k * (p.lnAbs[i] - std::log(lambda))) < 1e-9);
        const QCPGraph* density = plot.graph(2);
        double bestX = 0, best = -1;
        for (int i = 0; i < density->dataCount(); ++i)
            if (density->data()->at(i)->value > best) best = density->data()->at(i)->value, bestX = density->data()->at(i)->key;
        // Per log10 bin the expected count peaks where w·pdf(w) does: w = λ·(1)^(1/k) = λ.
        QVERIFY2(std::abs(bestX - std::log10(lambda)) < 0.02, qPrintable(QString::number(bestX)));
    }

    void divergingGradientIsCentred() {
        QCPColorGradient g = makeDivergingGradient();
        const QCPRange r = centredRange(1.2054, 0.8, 1.25);
        QCOMPARE(r.center(), 1.2054);
        QCOMPARE(r.lower, 0.8);
        QCOMPARE(QColor(g.color(1.2054, r)), QColor(0xf7, 0xf7, 0xf7));
        QVERIFY(centredRange(1.0, 1.0, 1.0, 0.1).size() > 0);
    }

    void headGridRoles() {
        // Roles: the score highest relative to its threshold among those reaching it; a
        // categorical colour bar names the roles; unscored heads stay background.
        HeadGridPanel panel;
        panel.resize(500, 400);
        HeadScoreTable s(emptyHeadScores(1, 4,
                                         {{"entropy", "Entropy", "nats", "", "", 0},
                                          {"first_token", "Mass on first token", "", "", "sink", 0.5},
                                          {"previous_token", "Previous", "", "", "previous-token", 0.4}}));
        s.values[0] = {3, 3, 3, std::numeric_limits<float>::quiet_NaN()};
        s.values[1] = {0.9f, 0.55f, 0.1f, std::numeric_limits<float>::quiet_NaN()};  // ratios 1.8, 1.1, 0.2
        s.values[2] = {0.5f, 0.6f, 0.1f, std::numeric_limits<float>::quiet_NaN()};   // ratios 1.25, 1.5, 0.25
        panel.setScores(s);
        panel.setScoreView(kHeadRolesView);
        QCOMPARE(panel.scoreView(), std::string(kHeadRolesView));
        QCOMPARE(headRoles(s), (std::vector<std::string>{"sink", "previous-token", "", ""}));
        {
            // A secondary role labels only heads without a pattern role, whatever its ratio.
            HeadScoreTable t = s;
            t.infos.push_back({"retrieval", "Retrieval", "", "", "retrieval", 0.05, true});
            t.values.push_back({0.9f, 0.01f, 0.5f, std::numeric_limits<float>::quiet_NaN()});
            QCOMPARE(headRoles(t), (std::vector<std::string>{"sink", "previous-token", "retrieval", ""}));
        }
        const Matrix2D m = panel.grid()->matrix();
        QCOMPARE(m.at(0, 0), 1.f);  // sink = the first role
        QCOMPARE(m.at(0, 1), 2.f);  // previous-token
        QCOMPARE(m.at(0, 2), 0.f);  // none
        QVERIFY(std::isnan(m.at(0, 3)));
        // Each role is drawn in its own colour (the band the colour bar names).
        QCPColorMap* map = panel.grid()->colorMap();
        for (int r = 0; r <= 2; ++r)
            QCOMPARE(QColor(map->gradient().color(double(r), map->dataRange())), headRoleColor(r));
        auto ticker = panel.grid()->colorScaleElement()->axis()->ticker().dynamicCast<QCPAxisTickerText>();
        QVERIFY(ticker);
        QCOMPARE(ticker->ticks().value(0), QStringLiteral("none"));
        QCOMPARE(ticker->ticks().value(1), QStringLiteral("sink"));
        QCOMPARE(ticker->ticks().value(2), QStringLiteral("previous-token"));
        // Back to a score: the numeric colour bar returns.
        panel.setScoreView("entropy");
        QVERIFY(!panel.grid()->colorScaleElement()->axis()->ticker().dynamicCast<QCPAxisTickerText>());
        QCOMPARE(panel.grid()->matrix().at(0, 1), 3.f);
    }

    void headGridClickAndKeys() {
        HeadGridPanel panel;
        panel.resize(500, 400);
        HeadScoreTable s(emptyHeadScores(3, 4,
                                         {{"entropy", "Entropy", "nats", "", "", 0},
                                          {"first_token", "Mass on first token", "A[i,0]", "", "sink", 0.5}}));
        for (int i = 0; i < 12; ++i) {
            s.values[0][size_t(i)] = float(i) / 8.f;
            s.values[1][size_t(i)] = float(12 - i) / 16.f;
        }
        panel.setScores(s);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        MatrixPlot* grid = panel.grid();
        for (int l = 0; l < 3; ++l)
            for (int h = 0; h < 4; ++h) QCOMPARE(grid->colorMap()->data()->cell(h, l), double(float(l * 4 + h) / 8.f));
        panel.setScoreView("first_token");
        QCOMPARE(grid->colorMap()->data()->cell(1, 2), double(float(12 - 9) / 16.f));
        QCOMPARE(panel.scoreViewTitle(), QStringLiteral("Mass on first token"));

        QSignalSpy spy(&panel, &HeadGridPanel::headSelected);
        click(grid, 2, 1);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0), (QList<QVariant>{2, 1}));
        grid->setFocus();
        QTest::keyClick(grid, Qt::Key_Left);
        QCOMPARE(spy.last(), (QList<QVariant>{2, 0}));
        QTest::keyClick(grid, Qt::Key_Up);
        QCOMPARE(spy.last(), (QList<QVariant>{1, 0}));
        QTest::keyClick(grid, Qt::Key_Right);
        QCOMPARE(spy.last(), (QList<QVariant>{1, 1}));
        QTest::keyClick(grid, Qt::Key_Down);
        QTest::keyClick(grid, Qt::Key_Down);  // already on the last layer: nothing
        QCOMPARE(spy.count(), 5);
        QCOMPARE(spy.last(), (QList<QVariant>{2, 1}));
        // Following the shared selection moves the outline without emitting.
        panel.setCurrent(0, 3);
        QCOMPARE(grid->currentRow(), 0);
        QCOMPARE(grid->currentColumn(), 3);
        QCOMPARE(spy.count(), 5);
    }
};

QTEST_MAIN(TestAnalysisPanels)
#include "tst_analysis_panels.moc"
