#include "panels/weibull_panel.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "panels/panel_layout.h"
#include "plot/colormaps.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/plot_theme.h"
#include "plot/weibull_detail_plot.h"
#include "panels/weibull_series_view.h"

namespace attnscope::widgets {
namespace {

constexpr int kMatrixTab = 1, kSeriesTab = 2;

QString summaryText(const std::vector<WeibullMatrixFit>& fits, const WeibullGrid& grid) {
    QStringList parts;
    for (const QString& c : grid.columns) {
        std::vector<double> ks;
        for (const WeibullMatrixFit& f : fits)
            if (f.fit.ok && QString::fromStdString(f.component) == c) ks.push_back(f.fit.k);
        if (ks.empty()) continue;
        std::nth_element(ks.begin(), ks.begin() + std::ptrdiff_t(ks.size() / 2), ks.end());
        parts << QStringLiteral("%1 %2").arg(c).arg(ks[ks.size() / 2], 0, 'f', 3);
    }
    return QObject::tr("%1 matrices \u00b7 median k per component: %2").arg(fits.size()).arg(parts.join(QStringLiteral(", ")));
}

}  // namespace

WeibullPanel::WeibullPanel(QWidget* parent) : QWidget(parent) {
    m_protocol = new QComboBox(this);
    m_protocol->addItems({tr("Protocol: exact"), tr("Protocol: hist")});
    m_protocol->setToolTip(weibullHelp("protocol"));
    m_trim = new QComboBox(this);
    m_trim->addItems({tr("Trim: mid80"), tr("Trim: mid90"), tr("Trim: full")});
    m_trim->setToolTip(weibullHelp("trim"));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // wraps, never widens the dock
    m_status = new QLabel(this);
    m_status->setEnabled(false);
    auto* controls = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{m_protocol, m_trim}) controls->addWidget(w);
    controls->addStretch(1);

    m_map = new MatrixPlot(this);
    m_lambdaMap = new MatrixPlot(this);
    for (MatrixPlot* map : {m_map, m_lambdaMap}) {
        map->setAxisTitles(tr("component"), tr("layer"));
        map->setKeyboardNavigation(true);
        map->setColumnLabelsVertical(true);
        map->setMinimumSize(180, 200);
        map->setCellDescriber([this](int row, int col) {
            const int f = m_grid.at(row, col);
            return f < 0 ? tr("no %1 matrix in this row").arg(m_grid.columns.value(col)) : weibullCellText(m_fits[size_t(f)]);
        });
    }
    m_map->setToolTip(weibullHelp("k"));
    m_lambdaMap->setToolTip(weibullHelp("lambda"));
    m_curves = new LayerCurvesPlot(QStringLiteral("weibull_k_by_layer"), this);
    m_curves->setToolTip(weibullHelp("lines"));
    m_curves->yAxis->setLabel(tr("Weibull shape k"));
    m_curves->setLegendColumns(4);
    m_table = new QTableWidget(0, 2, this);
    m_table->setHorizontalHeaderLabels({tr("quantity"), tr("value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(true);
    m_table->setMinimumWidth(150);
    m_detail = new WeibullDetailPlot(this);
    m_detail->setToolTip(weibullHelp("detail"));

    // The two maps side by side above, one tab below for everything else: at a docked width
    // of ~600 px three plots in a row left each map a few pixels per component.
    QSplitter* top = makeSplitter(Qt::Horizontal, this, {m_map, m_lambdaMap}, {500, 500});
    QSplitter* matrix = makeSplitter(Qt::Horizontal, this, {m_table, m_detail}, {300, 700});
    m_series = new WeibullSeriesView(this);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_curves, tr("k by layer"));
    m_tabs->addTab(matrix, tr("Selected matrix"));
    m_tabs->addTab(m_series, tr("Checkpoint series"));
    QSplitter* split = makeSplitter(Qt::Vertical, this, {top, m_tabs}, {430, 470});

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);
    layout->addWidget(m_status);

    auto changed = [this] { emit paramsChanged(params()); };
    connect(m_protocol, &QComboBox::currentIndexChanged, this, changed);
    connect(m_trim, &QComboBox::currentIndexChanged, this, changed);
    connect(m_map, &MatrixPlot::currentCellChanged, this, &WeibullPanel::onCellChosen);
    connect(m_lambdaMap, &MatrixPlot::currentCellChanged, this, &WeibullPanel::onCellChosen);
    clear();
}

WeibullParams WeibullPanel::params() const {
    WeibullParams p;
    p.protocol = m_protocol->currentIndex() == 1 ? WeibullProtocol::Hist : WeibullProtocol::Exact;
    p.trim = std::array{WeibullTrim::Mid80, WeibullTrim::Mid90, WeibullTrim::Full}[size_t(m_trim->currentIndex())];
    return p;
}

void WeibullPanel::setParams(const WeibullParams& p) {
    const QSignalBlocker b1(m_protocol), b2(m_trim);
    m_protocol->setCurrentIndex(p.protocol == WeibullProtocol::Hist ? 1 : 0);
    m_trim->setCurrentIndex(p.trim == WeibullTrim::Mid90 ? 1 : p.trim == WeibullTrim::Full ? 2 : 0);
}

void WeibullPanel::setFits(const std::vector<WeibullMatrixFit>& fits) {
    m_fits = fits;
    m_grid = weibullGrid(m_fits);
    for (MatrixPlot* map : {m_map, m_lambdaMap}) {
        map->setRowLabels(m_grid.rowLabels);
        map->setColumnLabels(m_grid.columns);
    }
    m_summary->setText(summaryText(m_fits, m_grid));
    showMap();
    showCurves();
    // Keep the selected matrix across re-fits (protocol or trim changed); else show the first.
    QString keep = m_selected;
    for (const WeibullMatrixFit& f : m_fits) {
        if (!keep.isEmpty()) break;
        if (f.layer >= 0) keep = QString::fromStdString(f.name);
    }
    m_selected.clear();
    if (!keep.isEmpty()) selectMatrix(keep);
}

void WeibullPanel::showMap() {
    const Matrix2D k = weibullGridValues(m_grid, m_fits, false);
    double lo = INFINITY, hi = -INFINITY;
    for (float v : k.data) {
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, double(v));
        hi = std::max(hi, double(v));
    }
    // Centred on the HalfNormal anchor, so white means "as initialised".
    m_map->setGradient(makeDivergingGradient());
    m_map->setValueRange(centredRange(kWeibullHalfNormalK, lo, hi, 0.02));
    m_map->setValueTitle(tr("shape k (white: 1.2054)"));
    m_lambdaMap->setGradient(makeGradient(Colormap::Viridis));
    m_lambdaMap->setValueRange(std::nullopt);
    m_lambdaMap->setValueTitle(tr("scale \u03bb of |w|"));
    if (m_grid.rows() > 0) {
        m_map->setMatrix(k);
        m_lambdaMap->setMatrix(weibullGridValues(m_grid, m_fits, true));
    } else {
        m_map->clearMatrix();
        m_lambdaMap->clearMatrix();
    }
}

void WeibullPanel::showCurves() {
    m_curves->clearPlottables();
    m_curves->clearDecorations();
    m_curves->addValueBand(kWeibullTransmissionLo, kWeibullTransmissionHi, QColor(0x2c, 0xa0, 0x2c, 60),
                           tr("Transmission band [1.186, 1.204]"));
    m_curves->addValueLine(kWeibullHalfNormalK, QPen(QColor(0x80, 0x80, 0x80), 1.5, Qt::DashLine),
                           tr("HalfNormal anchor 1.2054"));
    double lo = kWeibullTransmissionLo, hi = kWeibullHalfNormalK;
    int series = 0;
    for (const QString& c : m_grid.columns) {
        const auto curve = weibullComponentCurve(m_fits, c);
        if (curve.empty()) continue;
        QCPGraph* g = m_curves->addCurve(c, seriesColor(series++));
        for (const auto& [layer, k] : curve) {
            g->addData(layer, k);
            lo = std::min(lo, k);
            hi = std::max(hi, k);
        }
    }
    m_curves->setLayerCount(m_grid.nLayers);
    const double pad = 0.08 * (hi - lo) + 0.005;
    m_curves->yAxis->setRange(lo - pad, hi + pad);
    m_curves->legend->setVisible(series > 0);
    m_curves->replot(QCustomPlot::rpQueuedReplot);
}

void WeibullPanel::onCellChosen(int row, int col) {
    if (row < 0 || col < 0 || row >= m_grid.rows() || col >= m_grid.cols()) return;
    for (MatrixPlot* map : {m_map, m_lambdaMap}) {  // the two maps share one current cell
        if (map->currentRow() == row && map->currentColumn() == col) continue;
        const QSignalBlocker block(map);
        map->setCurrentCell(row, col);
    }
    // Only a user's choice moves the shared layer and opens the matrix's tab; a programmatic
    // selection (after a re-fit) must not.
    if (!m_selectingQuietly) {
        if (row < m_grid.nLayers) emit layerSelected(row);
        if (m_tabs->currentWidget() == m_curves) m_tabs->setCurrentIndex(kMatrixTab);
    }
    const int f = m_grid.at(row, col);
    showTable(f);
    if (f < 0) return;
    m_selected = QString::fromStdString(m_fits[size_t(f)].name);
    m_detail->clearData();
    emit matrixSelected(m_selected);
}

void WeibullPanel::selectMatrix(const QString& name) {
    for (int row = 0; row < m_grid.rows(); ++row) {
        for (int col = 0; col < m_grid.cols(); ++col) {
            const int f = m_grid.at(row, col);
            if (f < 0 || QString::fromStdString(m_fits[size_t(f)].name) != name) continue;
            m_map->setCurrentCell(row, col);
            m_selectingQuietly = true;
            onCellChosen(row, col);
            m_selectingQuietly = false;
            return;
        }
    }
}

void WeibullPanel::followLayer(int layer) {
    if (layer < 0 || layer >= m_grid.nLayers || layer == m_map->currentRow()) return;
    m_map->setCurrentCell(layer, std::max(0, m_map->currentColumn()));
}

void WeibullPanel::showTable(int fitIndex) {
    const auto rows = fitIndex >= 0 ? weibullFitRows(m_fits[size_t(fitIndex)])
                                    : std::vector<std::pair<QString, QString>>{};
    m_table->setRowCount(int(rows.size()));
    for (int i = 0; i < int(rows.size()); ++i) {
        m_table->setItem(i, 0, new QTableWidgetItem(rows[size_t(i)].first));
        m_table->setItem(i, 1, new QTableWidgetItem(rows[size_t(i)].second));
    }
    m_table->resizeColumnToContents(0);
    m_table->resizeRowsToContents();
}

void WeibullPanel::setMatrixPlot(const std::string& name, const WeibullPlot& plot) {
    if (QString::fromStdString(name) != m_selected) return;  // an answer for an earlier click
    for (const WeibullMatrixFit& f : m_fits)
        if (f.name == name) m_detail->setData(plot, f.fit, QString::fromStdString(name));
}

void WeibullPanel::setStatus(const QString& text) { m_status->setText(text); }

void WeibullPanel::showSeriesTab() { m_tabs->setCurrentIndex(kSeriesTab); }

void WeibullPanel::clear() {
    m_fits.clear();
    m_grid = {};
    m_selected.clear();
    m_summary->setText(tr("Open a model to fit its weight magnitudes."));
    m_map->clearMatrix();
    m_lambdaMap->clearMatrix();
    m_series->clear();
    showCurves();
    showTable(-1);
    m_detail->clearData();
}

}  // namespace attnscope::widgets
