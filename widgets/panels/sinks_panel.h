// Attention sinks of the current run: primary and secondary sinks, sink levels, the
// primary's weakening. Pure view: it shows a SinkResult it is given and reports parameter
// edits, which the app re-classifies on its worker (no model re-run).
#pragma once
#include <cstdint>
#include <memory>

#include <QList>
#include <QStringList>
#include <QWidget>

#include "attnscope/analyses/sinks.h"
#include "attnscope/views.h"
#include "models/sink_views.h"

class QCheckBox;
class QComboBox;
class QCPGraph;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTabWidget;

namespace attnscope::widgets {

class LayerCurvesPlot;
class MatrixPlot;
class SinkScatterPlot;

class SinksPanel : public QWidget {
    Q_OBJECT
public:
    explicit SinksPanel(QWidget* parent = nullptr);

    void setTokens(const attnscope::TokenStrip& tokens);
    void setResult(const SinkResult& result);
    void setStatus(const QString& text);  // e.g. "computing", timings, errors
    void clear();
    const SinkResult& result() const { return m_result; }
    bool hasResult() const { return m_result.T > 0; }
    // The statistics the result was classified from: sessions store them, so a session
    // opened without the model still re-classifies on parameter edits. Cleared by clear().
    void setInputs(std::shared_ptr<const SinkInputs> inputs) { m_inputs = std::move(inputs); }
    const std::shared_ptr<const SinkInputs>& inputs() const { return m_inputs; }

    SinkParams params() const;
    void setParams(const SinkParams& params);  // emits nothing
    void setQuantity(SinkQuantity q);
    SinkQuantity quantity() const;

    // Follow the shared selection; emit nothing.
    void selectToken(int64_t token);
    void selectTokens(const QList<qint64>& tokens);
    int64_t selectedToken() const { return m_token; }

    MatrixPlot* tokenMap() const { return m_tokenMap; }
    MatrixPlot* levelMap() const { return m_levelMap; }
    LayerCurvesPlot* layerPlot() const { return m_layerPlot; }
    LayerCurvesPlot* tokenPlot() const { return m_tokenPlot; }
    SinkScatterPlot* scatterPlot() const { return m_scatterPlot; }
    // The marks drawn on the token map for one class (x = token, y = flagged layer).
    QCPGraph* classMarks(SinkClass cls) const;
    QString tokenInfo() const;

signals:
    void paramsChanged(const attnscope::SinkParams& params);
    void tokenSelected(qint64 token);                // clicked on the token map
    void tokensSelected(const QList<qint64>& tokens);  // clicked a sink level
    // "Test: ablate the MLP that creates this sink" for the selected token (-1: none selected).
    void sinkTestRequested(qint64 token);

private:
    QWidget* buildControls();
    void buildPlots();
    QWidget* buildScatter();
    void showQuantity();
    void showMarks();
    void showLevels();
    void showLayerCurves();
    void showToken();
    void showSelectionBands();
    QString tokenText(int64_t t) const;

    SinkResult m_result;
    std::shared_ptr<const SinkInputs> m_inputs;
    SinkParams m_params;  // the last setParams (params() overrides what the controls edit)
    QStringList m_tokenTexts;
    int64_t m_token = -1;
    QList<qint64> m_selected;

    QComboBox *m_quantity = nullptr, *m_scatterY = nullptr;
    QDoubleSpinBox *m_epsilon = nullptr, *m_cos = nullptr;
    QSpinBox* m_minQuery = nullptr;
    QComboBox* m_rule = nullptr;
    QCheckBox* m_allLayers = nullptr;
    QLabel *m_summary = nullptr, *m_status = nullptr, *m_tokenInfo = nullptr;
    MatrixPlot *m_tokenMap = nullptr, *m_levelMap = nullptr;
    LayerCurvesPlot *m_layerPlot = nullptr, *m_tokenPlot = nullptr;
    SinkScatterPlot* m_scatterPlot = nullptr;
    QTabWidget* m_tabs = nullptr;  // selected token, MLP scatter
    QCPGraph* m_marks[3] = {nullptr, nullptr, nullptr};  // primary, secondary, noise
};

}  // namespace attnscope::widgets
