// The controls of one KV policy's parameters, built from its registry entry (names, ranges,
// choices and help come from core): a combo box per enumeration, a check box per flag, a
// spin box per number, each with a tooltip citing the source.
#pragma once
#include <map>
#include <string>

#include <QWidget>

#include "attnscope/analyses/kv.h"

class QFormLayout;

namespace attnscope::widgets {

class KvParamForm : public QWidget {
    Q_OBJECT
public:
    explicit KvParamForm(QWidget* parent = nullptr);

    // Rebuilds the controls for `policy` showing `values` (absent: defaults). Emits nothing.
    void setPolicy(const KvPolicyInfo& policy, const std::map<std::string, double>& values);
    // Only values that differ from the defaults.
    std::map<std::string, double> values() const;
    QWidget* control(const std::string& name) const;

signals:
    void changed();

private:
    QWidget* makeControl(const KvPolicyInfo& policy, const KvParamSpec& spec, double value);
    double valueOf(const KvParamSpec& spec, const QWidget* control) const;

    QFormLayout* m_form = nullptr;
    KvPolicyInfo m_policy;
    std::map<std::string, QWidget*> m_controls;
};

}  // namespace attnscope::widgets
