#include "panels/kv_param_form.h"

#include <algorithm>
#include <climits>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSpinBox>

#include "models/kv_views.h"

namespace attnscope::widgets {

KvParamForm::KvParamForm(QWidget* parent) : QWidget(parent) {
    m_form = new QFormLayout(this);
    m_form->setContentsMargins(0, 0, 0, 0);
    m_form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
}

QWidget* KvParamForm::makeControl(const KvPolicyInfo& policy, const KvParamSpec& spec, double value) {
    QWidget* w = nullptr;
    switch (kvParamWidget(spec)) {
    case KvParamWidget::Choice: {
        auto* box = new QComboBox(this);
        for (const std::string& c : spec.choices) box->addItem(QString::fromStdString(c));
        box->setCurrentIndex(std::clamp(int(value), 0, int(spec.choices.size()) - 1));
        connect(box, &QComboBox::currentIndexChanged, this, &KvParamForm::changed);
        w = box;
        break;
    }
    case KvParamWidget::Flag: {
        auto* box = new QCheckBox(this);
        box->setChecked(value != 0);
        connect(box, &QCheckBox::toggled, this, &KvParamForm::changed);
        w = box;
        break;
    }
    case KvParamWidget::Fraction: {
        auto* box = new QDoubleSpinBox(this);
        box->setDecimals(3);
        box->setSingleStep(0.05);
        box->setRange(spec.minValue, std::min(spec.maxValue, 1e9));
        if (spec.minValue < 0) box->setSpecialValueText(tr("auto"));  // -1: derived from the budget
        box->setValue(value);
        box->setKeyboardTracking(false);
        connect(box, &QDoubleSpinBox::valueChanged, this, &KvParamForm::changed);
        w = box;
        break;
    }
    case KvParamWidget::Integer: {
        auto* box = new QSpinBox(this);
        box->setRange(int(std::max<double>(spec.minValue, INT_MIN)), int(std::min<double>(spec.maxValue, INT_MAX)));
        if (spec.minValue < 0) box->setSpecialValueText(tr("auto"));  // -1: derived from the budget
        box->setValue(int(value));
        box->setKeyboardTracking(false);
        connect(box, &QSpinBox::valueChanged, this, &KvParamForm::changed);
        w = box;
        break;
    }
    }
    w->setToolTip(kvParamTooltip(policy, spec));
    w->setMaximumWidth(96);  // a 1e9 range would size the spin box for ten digits: the dock is narrow
    return w;
}

void KvParamForm::setPolicy(const KvPolicyInfo& policy, const std::map<std::string, double>& values) {
    while (m_form->rowCount() > 0) m_form->removeRow(0);
    m_controls.clear();
    m_policy = policy;
    for (const KvParamSpec& spec : policy.params) {
        const auto it = values.find(spec.name);
        QWidget* w = makeControl(policy, spec, it == values.end() ? spec.defaultValue : it->second);
        auto* label = new QLabel(QString::fromStdString(spec.name), this);
        label->setToolTip(w->toolTip());
        m_form->addRow(label, w);
        m_controls[spec.name] = w;
    }
    if (policy.params.empty()) m_form->addRow(new QLabel(tr("no parameters besides the budget"), this));
}

double KvParamForm::valueOf(const KvParamSpec& spec, const QWidget* w) const {
    if (auto* c = qobject_cast<const QComboBox*>(w)) return c->currentIndex();
    if (auto* c = qobject_cast<const QCheckBox*>(w)) return c->isChecked() ? 1 : 0;
    if (auto* c = qobject_cast<const QDoubleSpinBox*>(w)) return c->value();
    if (auto* c = qobject_cast<const QSpinBox*>(w)) return c->value();
    return spec.defaultValue;
}

std::map<std::string, double> KvParamForm::values() const {
    std::map<std::string, double> out;
    for (const KvParamSpec& spec : m_policy.params) {
        const auto it = m_controls.find(spec.name);
        if (it == m_controls.end()) continue;
        const double v = valueOf(spec, it->second);
        if (v != spec.defaultValue) out[spec.name] = v;
    }
    return out;
}

QWidget* KvParamForm::control(const std::string& name) const {
    const auto it = m_controls.find(name);
    return it == m_controls.end() ? nullptr : it->second;
}

}  // namespace attnscope::widgets
