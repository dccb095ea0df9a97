// The attention map's default colour scale: linear for short prompts, log above
// AttentionMapsPanel::kAutoLogTokens tokens, where a linear scale draws a long prompt's
// typical probability (about 1/T) in the bottom colour; an explicit choice sticks; the
// status-bar text keeps the exact value whatever the scale draws.
#include <algorithm>
#include <cmath>

#include <QSignalSpy>
#include <QTest>

#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"
#include "token_strip.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

attnscope::TokenStrip tokens(int n) {
    attnscope::TokenStrip t;
    for (int i = 0; i < n; ++i) {
        t.ids.push_back(100 + i);
        t.pieces.push_back(" w" + std::to_string(i));
    }
    return t;
}

// A long-prompt pattern: query i > 0 gives half its mass to key 0 (a sink) and the other
// half to keys 1..i, decaying with distance (exp(-(i-j)/64)); query 0 puts all on key 0.
Matrix2D sinkMatrix(int64_t n) {
    Matrix2D m{n, n, std::vector<float>(static_cast<size_t>(n * n), 0.f)};
    m.data[0] = 1.f;
    for (int64_t i = 1; i < n; ++i) {
        double sum = 0;
        for (int64_t j = 1; j <= i; ++j) sum += std::exp(-double(i - j) / 64.0);
        m.data[size_t(i * n)] = 0.5f;
        for (int64_t j = 1; j <= i; ++j) m.data[size_t(i * n + j)] = float(0.5 * std::exp(-double(i - j) / 64.0) / sum);
    }
    return m;
}

// Where `v` falls on the colour bar (0 = bottom colour, 1 = top) for the scale drawn: the
// textbook linear and logarithmic normalisations over the bar's range.
double barFraction(const AttentionHeatmap* map, double v) {
    const QCPRange r = map->colorScaleElement()->dataRange();
    if (map->colorScaleElement()->dataScaleType() == QCPAxis::stLogarithmic)
        return std::log(std::max(v, r.lower) / r.lower) / std::log(r.upper / r.lower);
    return (v - r.lower) / (r.upper - r.lower);
}

}  // namespace

class TestColorScaleDefault : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { registerMetaTypes(); }

    void autoFollowsPromptLength() {
        AttentionMapsPanel panel;
        QVERIFY(panel.isAutoColorScale());
        const int limit = AttentionMapsPanel::kAutoLogTokens;
        panel.setTokens(tokens(12));
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Linear);
        panel.setTokens(tokens(limit));
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Linear);
        panel.setTokens(tokens(limit + 1));
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Log);
        QVERIFY(panel.heatmap()->colorScaleElement()->axis()->label().contains(QStringLiteral("log")));
        // A user's explicit choice stays for every prompt until auto is chosen again.
        panel.setColorScale(ColorScale::Linear);
        QVERIFY(!panel.isAutoColorScale());
        panel.setTokens(tokens(4 * limit));
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Linear);
        panel.setAutoColorScale();
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Log);
        panel.setColorScale(ColorScale::Log);
        panel.setTokens(tokens(5));
        QCOMPARE(panel.heatmap()->colorScaleType(), ColorScale::Log);
    }

    void longPromptNotUniformlyDark() {
        const int64_t T = 1000;
        AttentionMapsPanel panel;
        panel.setTokens(tokens(int(T)));
        panel.setAttention(sinkMatrix(T), {0, T, 0, T}, 0, 0);
        // The median visible probability: linear draws it in the bottom 1% of the bar
        // (uniformly dark), the default well up the bar and below the sink's 0.5.
        const Matrix2D m = sinkMatrix(T);
        std::vector<float> visible;
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = 0; j <= i; ++j) visible.push_back(m.at(i, j));
        std::nth_element(visible.begin(), visible.begin() + std::ptrdiff_t(visible.size() / 2), visible.end());
        const double median = visible[visible.size() / 2];
        QVERIFY2(median / 1.0 < 0.01, "the data this default is for");
        const double f = barFraction(panel.heatmap(), median);
        QVERIFY2(f > 0.25 && f < 0.9, qPrintable(QString::number(f)));
        QVERIFY(barFraction(panel.heatmap(), 0.5) > f + 0.2);
        // The drawn cells hold the values (the log floor stands in for zeros only).
        QVERIFY(m.at(T - 1, T - 3) > panel.heatmap()->logFloor());
        QCOMPARE(panel.heatmap()->colorMap()->data()->cell(int(T - 3), int(T - 1)), double(m.at(T - 1, T - 3)));
    }

    void statusBarKeepsExactValues() {
        const int64_t T = 300;
        AttentionMapsPanel panel;
        panel.resize(900, 900);
        panel.setTokens(tokens(int(T)));
        panel.setAttention(sinkMatrix(T), {0, T, 0, T}, 0, 0);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        AttentionHeatmap* map = panel.heatmap();
        QCOMPARE(map->colorScaleType(), ColorScale::Log);
        map->setView({200, 210, 0, 10});  // ten tokens each way: cells many pixels wide
        map->replot();
        QSignalSpy hover(&panel, &AttentionMapsPanel::hoverTextChanged);
        auto hoverAt = [&](int64_t q, int64_t k) {
            const QPointF pixel(map->xAxis->coordToPixel(double(k)), map->yAxis->coordToPixel(double(q)));
            QMouseEvent move(QEvent::MouseMove, pixel, map->mapToGlobal(pixel), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
            QCoreApplication::sendEvent(map, &move);
            return hover.isEmpty() ? QString() : hover.takeLast().at(0).toString();
        };
        const QString text = hoverAt(203, 7);
        QVERIFY2(text.startsWith(QStringLiteral("query 203 ")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("key 7 ")), qPrintable(text));
        const Matrix2D m = sinkMatrix(T);
        QVERIFY2(text.endsWith(QStringLiteral(": ") + QString::number(double(m.at(203, 7)), 'g', 4)), qPrintable(text));
        QVERIFY2(hoverAt(205, 0).endsWith(QStringLiteral(": 0.5")), "the sink's exact value");
    }
};

QTEST_MAIN(TestColorScaleDefault)
#include "tst_color_scale_default.moc"
