#include "panels/weibull_series_view.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "models/weibull_views.h"
#include "plot/weibull_series_plot.h"

namespace attnscope::widgets {

WeibullSeriesView::WeibullSeriesView(QWidget* parent) : QWidget(parent) {
    m_own = new QPushButton(tr("Fit the model's series"), this);
    m_own->setToolTip(tr("The checkpoints listed in the loaded model's series.json (the built-in model "
                         "ships steps 0 to 1200)."));
    m_pick = new QPushButton(tr("Choose checkpoints\u2026"), this);
    m_pick->setToolTip(tr("A series root (series.json), one checkpoint of a series, or a directory whose "
                          "subdirectories are model directories (step from train_state.json or the "
                          "directory name, e.g. step-600)."));
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_plot = new WeibullSeriesPlot(this);
    m_plot->setToolTip(weibullHelp("series"));

    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // wraps, never widens the dock
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_own);
    buttons->addWidget(m_pick);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_plot, 1);

    connect(m_own, &QPushButton::clicked, this, [this] { request(QString()); });
    connect(m_pick, &QPushButton::clicked, this, &WeibullSeriesView::chooseDirectory);
    clear();
}

void WeibullSeriesView::chooseDirectory() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Checkpoint series or checkpoints directory"), m_source);
    if (!dir.isEmpty()) request(dir);
}

void WeibullSeriesView::request(const QString& directory) {
    m_source = directory;
    setStatus(tr("Fitting every checkpoint\u2026"));
    emit requested(directory);
}

void WeibullSeriesView::setSeries(const std::vector<WeibullSeriesPoint>& series, const QString& source) {
    m_series = series;
    m_plot->setSeries(series);
    QStringList steps;
    for (const WeibullSeriesPoint& p : series) steps << QString::number(p.checkpoint.step);
    setStatus(tr("%1: %2 checkpoints (steps %3)").arg(source).arg(series.size()).arg(steps.join(QStringLiteral(", "))));
    emit seriesShown();
}

void WeibullSeriesView::setStatus(const QString& text) { m_status->setText(text); }

void WeibullSeriesView::clear() {
    m_series.clear();
    m_plot->clearSeries();
    setStatus(tr("No series fitted yet."));
}

}  // namespace attnscope::widgets
