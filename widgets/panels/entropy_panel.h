// Attention entropy by layer: one curve per layer of the mean row entropy over heads against
// the query position, and ln(i + 1), the entropy of uniform attention over the keys row i sees.
#pragma once
#include <QWidget>

#include "attnscope/analyses/entropy.h"

class QLabel;

namespace attnscope::widgets {

class LayerCurvesPlot;

class EntropyPanel : public QWidget {
    Q_OBJECT
public:
    explicit EntropyPanel(QWidget* parent = nullptr);

    void setProfile(const EntropyProfile& profile);
    const EntropyProfile& profile() const { return m_profile; }
    bool hasProfile() const { return m_profile.nLayers > 0; }
    LayerCurvesPlot* plot() const { return m_plot; }
    void setStatus(const QString& text);
    void clear();

private:
    EntropyProfile m_profile;
    LayerCurvesPlot* m_plot = nullptr;
    QLabel* m_summary = nullptr;
};

}  // namespace attnscope::widgets
