// Weibull diagnostics of the loaded model's weight magnitudes: k and λ maps per layer and
// component, k against layer with the Transmission band, one matrix's fit in detail, and
// k and λ over a checkpoint series.
// Pure view: fits come from the app's worker; protocol and trim edits ask for a re-fit.
#pragma once
#include <string>
#include <vector>

#include <QWidget>

#include "attnscope/analyses/weibull.h"
#include "models/weibull_views.h"

class QComboBox;
class QLabel;
class QTabWidget;
class QTableWidget;

namespace attnscope::widgets {

class LayerCurvesPlot;
class MatrixPlot;
class WeibullDetailPlot;
class WeibullSeriesView;

class WeibullPanel : public QWidget {
    Q_OBJECT
public:
    explicit WeibullPanel(QWidget* parent = nullptr);

    void setFits(const std::vector<WeibullMatrixFit>& fits);
    // The probability plot and histogram of one matrix (after matrixSelected).
    void setMatrixPlot(const std::string& name, const WeibullPlot& plot);
    void setStatus(const QString& text);
    void clear();
    void showSeriesTab();  // raise the checkpoint-series tab (screenshots)
    const std::vector<WeibullMatrixFit>& fits() const { return m_fits; }

    WeibullParams params() const;
    void setParams(const WeibullParams& params);  // emits nothing

    // Select the matrix at (layer, component) as if clicked; emits matrixSelected.
    void selectMatrix(const QString& name);
    QString selectedMatrix() const { return m_selected; }
    // Follow the shared selection: outline that layer's row (emits nothing).
    void followLayer(int layer);

    MatrixPlot* map() const { return m_map; }
    MatrixPlot* lambdaMap() const { return m_lambdaMap; }
    WeibullSeriesView* seriesView() const { return m_series; }
    LayerCurvesPlot* curves() const { return m_curves; }
    QTableWidget* table() const { return m_table; }
    WeibullDetailPlot* detail() const { return m_detail; }

signals:
    void paramsChanged(const attnscope::WeibullParams& params);
    void matrixSelected(const QString& name);
    void layerSelected(int layer);

private:
    void showMap();
    void showCurves();
    void showTable(int fitIndex);
    void onCellChosen(int row, int col);

    std::vector<WeibullMatrixFit> m_fits;
    WeibullGrid m_grid;
    QString m_selected;
    bool m_selectingQuietly = false;  // selectMatrix(): no layerSelected for the shared selection

    QComboBox *m_protocol = nullptr, *m_trim = nullptr;
    QLabel *m_summary = nullptr, *m_status = nullptr;
    MatrixPlot *m_map = nullptr, *m_lambdaMap = nullptr;
    LayerCurvesPlot* m_curves = nullptr;
    QTableWidget* m_table = nullptr;
    WeibullDetailPlot* m_detail = nullptr;
    WeibullSeriesView* m_series = nullptr;
    QTabWidget* m_tabs = nullptr;  // k by layer, selected matrix, checkpoint series
};

}  // namespace attnscope::widgets
