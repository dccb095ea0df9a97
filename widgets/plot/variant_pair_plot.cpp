#include "plot/variant_pair_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QTimer>

#include "plot/colormaps.h"
#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr int kMaxTickLabels = 40;  // token labels on the axes when at most this many are on screen

void titleAxis(QCPAxisRect* r, const QString& title) {
    QCPAxis* top = r->axis(QCPAxis::atTop);
    top->setVisible(true);
    top->setTicks(false);
    top->setTickLabels(false);
    top->setLabel(title);
}

}  // namespace

VariantPairPlot::VariantPairPlot(QWidget* parent) : QCustomPlot(parent) {
    plotLayout()->clear();
    auto *top = new QCPLayoutGrid, *bottom = new QCPLayoutGrid;
    plotLayout()->addElement(0, 0, top);
    plotLayout()->addElement(1, 0, bottom);
    for (int i = 0; i < 4; ++i) {
        m_rects[i] = new QCPAxisRect(this);
        m_rects[i]->setupFullAxesBox(false);
        m_rects[i]->axis(QCPAxis::atRight)->setVisible(false);
    }
    top->addElement(0, 0, m_rects[0]);
    top->addElement(0, 1, m_rects[1]);
    m_scale = new QCPColorScale(this);
    top->addElement(0, 2, m_scale);
    bottom->addElement(0, 0, m_rects[2]);
    m_diffScale = new QCPColorScale(this);
    bottom->addElement(0, 1, m_diffScale);
    bottom->addElement(0, 2, m_rects[3]);
    for (QCPColorScale* s : {m_scale, m_diffScale}) {
        s->setType(QCPAxis::atRight);
        s->setBarWidth(8);
    }
    m_scale->axis()->setLabel(tr("weight (both maps)"));
    m_diffScale->axis()->setLabel(tr("variant − softmax"));
    for (int i = 0; i < 3; ++i) {
        QCPAxisRect* r = m_rects[i];
        r->axis(QCPAxis::atBottom)->setLabel(tr("key j"));
        r->axis(QCPAxis::atLeft)->setLabel(i == 1 ? QString() : tr("query i"));
        r->axis(QCPAxis::atLeft)->setRangeReversed(true);  // query 0 at the top
        r->setRangeDrag(Qt::Horizontal | Qt::Vertical);
        r->setRangeZoom(Qt::Horizontal | Qt::Vertical);
        m_maps[i] = new QCPColorMap(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        m_maps[i]->setInterpolate(false);
        m_maps[i]->setTightBoundary(true);
        m_maps[i]->setColorScale(i < 2 ? m_scale : m_diffScale);
    }
    m_maps[0]->setGradient(makeGradient(Colormap::Viridis));
    m_maps[1]->setGradient(makeGradient(Colormap::Viridis));
    QCPColorGradient diverging = makeDivergingGradient();
    diverging.setNanHandling(QCPColorGradient::nhTransparent);  // the causal mask shows the background
    m_maps[2]->setGradient(diverging);
    QCPAxisRect* h = m_rects[3];
    h->axis(QCPAxis::atBottom)->setLabel(tr("query i"));
    h->axis(QCPAxis::atLeft)->setLabel(tr("row entropy (nats)"));
    h->setRangeDrag(Qt::Horizontal);
    h->setRangeZoom(Qt::Horizontal);
    auto* legend = new QCPLegend;
    h->insetLayout()->addElement(legend, Qt::AlignTop | Qt::AlignLeft);  // entropy starts at 0: the corner is free
    legend->setLayer(QStringLiteral("legend"));
    legend->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
    this->legend = legend;
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_settle = new QTimer(this);
    m_settle->setSingleShot(true);
    m_settle->setInterval(200);
    connect(m_settle, &QTimer::timeout, this, [this] {
        const VariantTile t = wantedTile();
        if (t.rows > 0) emit tileWanted(t);
    });
    linkRanges();
    installPlotTheme(this);
    PlotMenu::install(this, QStringLiteral("variant-map-pair"));
    clearPair();
}

void VariantPairPlot::linkRanges() {
    // Keys with keys, queries with queries; the entropy plot's x is the query range.
    auto follow = [this](QCPAxis* from, std::vector<QCPAxis*> to) {
        connect(from, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this, to](const QCPRange& r) {
            if (m_linking) return;
            m_linking = true;
            for (QCPAxis* a : to) a->setRange(r);
            m_linking = false;
            updateTicks();
            if (m_T > 0) m_settle->start();
        });
    };
    for (int i = 0; i < 3; ++i) {
        std::vector<QCPAxis*> keys, queries = {m_rects[3]->axis(QCPAxis::atBottom)};
        for (int j = 0; j < 3; ++j)
            if (j != i)
                keys.push_back(m_rects[j]->axis(QCPAxis::atBottom)),
                    queries.push_back(m_rects[j]->axis(QCPAxis::atLeft));
        follow(m_rects[i]->axis(QCPAxis::atBottom), keys);
        follow(m_rects[i]->axis(QCPAxis::atLeft), queries);
    }
    follow(m_rects[3]->axis(QCPAxis::atBottom),
           {m_rects[0]->axis(QCPAxis::atLeft), m_rects[1]->axis(QCPAxis::atLeft), m_rects[2]->axis(QCPAxis::atLeft)});
}

void VariantPairPlot::clearPair() {
    m_pair = {};
    m_T = 0;
    for (int i = 0; i < 3; ++i) m_maps[i]->data()->setSize(0, 0);
    titleAxis(m_rects[0], tr("softmax (the model)"));
    titleAxis(m_rects[1], tr("variant"));
    titleAxis(m_rects[2], tr("difference"));
    titleAxis(m_rects[3], tr("row entropy"));
    clearGraphs();
    replot();
}

void VariantPairPlot::setPair(const VariantHeadPair& pair, const QStringList& tokens) {
    const VariantTile& t = pair.tile;
    const int64_t cells = int64_t(t.rows) * int64_t(t.cols);
    if (pair.T <= 0 || t.rows < 1 || t.cols < 1 || t.q0 < 0 || t.q1 > pair.T || t.q1 - t.q0 < t.rows || t.k0 < 0 ||
        t.k1 > pair.T || t.k1 - t.k0 < t.cols || int64_t(pair.softmax.map.size()) != cells ||
        int64_t(pair.variant.map.size()) != cells) {
        clearPair();
        return;
    }
    const bool sameView = m_T == pair.T && m_pair.layer == pair.layer && m_pair.head == pair.head;
    m_pair = pair;
    m_tokens = tokens;
    m_T = pair.T;
    const QString name = QString::fromStdString(pair.name);
    titleAxis(m_rects[0], tr("softmax: layer %1 head %2").arg(pair.layer).arg(pair.head) +
                              (pair.tile.pooled ? tr(" (cells: block max)") : QString()));
    titleAxis(m_rects[1], name);
    titleAxis(m_rects[2], tr("%1 − softmax").arg(name));
    titleAxis(m_rects[3], tr("row entropy per query"));
    fill();
    fillEntropy();
    if (sameView) replot();
    else setView(-0.5, double(m_T) - 0.5, -0.5, double(m_T) - 0.5);
}

VariantTile VariantPairPlot::wantedTile() const {
    if (m_T <= 0) return {0, 0, 0, 0, 0, 0, false};
    auto span = [this](QCPAxis* a) {
        const QCPRange r = a->range();
        const int64_t lo = std::clamp<int64_t>(int64_t(std::floor(r.lower + 0.5)), 0, m_T - 1);
        const int64_t hi = std::clamp<int64_t>(int64_t(std::ceil(r.upper + 0.5)), lo + 1, m_T);
        return std::pair{lo, hi};
    };
    const auto [k0, k1] = span(m_rects[0]->axis(QCPAxis::atBottom));
    const auto [q0, q1] = span(m_rects[0]->axis(QCPAxis::atLeft));
    const VariantTile& t = m_pair.tile;
    if (!t.pooled && q0 >= t.q0 && q1 <= t.q1 && k0 >= t.k0 && k1 <= t.k1) return {0, 0, 0, 0, 0, 0, false};
    VariantTile want;
    want.q0 = q0, want.q1 = q1, want.k0 = k0, want.k1 = k1;
    if (t.pooled && q0 == t.q0 && q1 == t.q1 && k0 == t.k0 && k1 == t.k1)
        return {0, 0, 0, 0, 0, 0, false};  // the pooled tile is this very view
    return want;
}

void VariantPairPlot::setLogScale(bool log) {
    if (log == m_log) return;
    m_log = log;
    if (m_T > 0) fill();
    replot();
}

void VariantPairPlot::fill() {
    const VariantTile& t = m_pair.tile;
    const int rows = t.rows, cols = t.cols;
    const double nq = double(t.q1 - t.q0), nk = double(t.k1 - t.k0);
    double hi = 0, diff = 0, minPositive = 1;
    bool signedMaps = false;
    for (size_t c = 0; c < m_pair.softmax.map.size(); ++c) {
        const double a = m_pair.softmax.map[c], b = m_pair.variant.map[c];
        hi = std::max({hi, std::abs(a), std::abs(b)});
        diff = std::max(diff, std::abs(b - a));
        signedMaps |= b < 0;
        for (double x : {std::abs(a), std::abs(b)})
            if (x > 0) minPositive = std::min(minPositive, x);
    }
    // Cell c of a side covers positions [x0 + c·n/cells, x0 + (c+1)·n/cells): its centre.
    auto centre = [](int64_t x0, double n, int cells, double c) { return double(x0) + (c + 0.5) * n / cells - 0.5; };
    for (int i = 0; i < 3; ++i) {
        QCPColorMapData* d = m_maps[i]->data();
        d->setSize(cols, rows);
        d->setRange(QCPRange(centre(t.k0, nk, cols, 0), centre(t.k0, nk, cols, cols - 1)),
                    QCPRange(centre(t.q0, nq, rows, 0), centre(t.q0, nq, rows, rows - 1)));
        for (int q = 0; q < rows; ++q) {
            const int64_t lastQuery = t.q0 + int64_t(std::ceil(double(q + 1) * nq / rows)) - 1;
            for (int k = 0; k < cols; ++k) {
                const int64_t firstKey = t.k0 + int64_t(std::floor(double(k) * nk / cols));
                const size_t c = size_t(q) * size_t(cols) + size_t(k);
                const double a = m_pair.softmax.map[c], b = m_pair.variant.map[c];
                d->setCell(k, q,
                           firstKey > lastQuery ? std::numeric_limits<double>::quiet_NaN()
                           : i == 0             ? a
                           : i == 1             ? b
                                                : b - a);
            }
        }
    }
    const bool log = m_log && !signedMaps;  // a signed map (MALA) keeps the linear scale
    const double floor = std::max(minPositive, hi * 1e-4);
    const QCPRange range =
        log ? QCPRange(floor, std::max(hi, floor * 10)) : QCPRange(signedMaps ? -hi : 0, hi > 0 ? hi : 1);
    m_scale->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    m_scale->axis()->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                   : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    for (int i = 0; i < 2; ++i) {
        m_maps[i]->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        m_maps[i]->setDataRange(range);
    }
    m_scale->setDataRange(range);
    m_maps[2]->setDataRange(centredRange(0, -diff, diff, 1e-6));
    m_diffScale->setDataRange(m_maps[2]->dataRange());
}

void VariantPairPlot::fillEntropy() {
    clearGraphs();
    QCPAxisRect* r = m_rects[3];
    QVector<double> x(static_cast<int>(m_T)), uniform(static_cast<int>(m_T));
    for (int i = 0; i < int(m_T); ++i) x[i] = i, uniform[i] = std::log(double(i) + 1);
    auto add = [&](const QString& name, const QVector<double>& y, const QColor& c, Qt::PenStyle style) {
        QCPGraph* g = addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        g->setName(name);
        g->setPen(QPen(c, 1.0, style));  // antialiased strokes wider than 1 px cost ~25 ms a curve at 1K points
        g->setData(x, y, true);
    };
    add(tr("ln(i+1)"), uniform, Qt::gray, Qt::DashLine);
    for (const auto& [name, o, color] :
         {std::tuple{tr("softmax"), &m_pair.softmax, seriesColor(0)},
          std::tuple{QString::fromStdString(m_pair.name), &m_pair.variant, seriesColor(1)}})
        if (int64_t(o->rowEntropy.size()) == m_T)
            add(name, QVector<double>(o->rowEntropy.begin(), o->rowEntropy.end()), color, Qt::SolidLine);
    r->axis(QCPAxis::atLeft)->setRange(0, std::log(double(m_T)) * 1.08 + 0.05);
}

void VariantPairPlot::setView(double k0, double k1, double q0, double q1) {
    m_linking = true;
    for (int i = 0; i < 3; ++i) {
        m_rects[i]->axis(QCPAxis::atBottom)->setRange(k0, k1);
        m_rects[i]->axis(QCPAxis::atLeft)->setRange(q0, q1);
    }
    m_rects[3]->axis(QCPAxis::atBottom)->setRange(q0, q1);
    m_linking = false;
    updateTicks();
    replot();
}

void VariantPairPlot::updateTicks() {
    const QCPRange r = m_rects[0]->axis(QCPAxis::atBottom)->range();
    const bool labels = !m_tokens.isEmpty() && r.size() <= kMaxTickLabels && m_tokens.size() >= m_T;
    for (int i = 0; i < 3; ++i)
        for (QCPAxis::AxisType t : {QCPAxis::atBottom, QCPAxis::atLeft}) {
            QCPAxis* axis = m_rects[i]->axis(t);
            if (labels) {
                QSharedPointer<QCPAxisTickerText> text(new QCPAxisTickerText);
                const QCPRange span = axis->range();
                for (int64_t p = std::max<int64_t>(0, int64_t(std::ceil(std::min(span.lower, span.upper))));
                     p < m_T && double(p) <= std::max(span.lower, span.upper); ++p)
                    text->addTick(double(p), m_tokens[int(p)].left(10));
                axis->setTicker(text);
                axis->setTickLabelRotation(t == QCPAxis::atBottom ? 60 : 0);
            } else if (axis->ticker().dynamicCast<QCPAxisTickerText>()) {
                axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
                axis->setTickLabelRotation(0);
            }
        }
}

}  // namespace attnscope::widgets
