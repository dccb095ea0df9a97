// A read-only form of what a loaded model is: architecture, shapes, sizes, device.
#pragma once
#include <QWidget>

#include "attnscope/model.h"  // plain ModelInfo only: no core function is called here

class QFormLayout;
class QLabel;

namespace attnscope::widgets {

class ModelSummary : public QWidget {
    Q_OBJECT
public:
    explicit ModelSummary(QWidget* parent = nullptr);

    void setInfo(const attnscope::ModelInfo& info);
    void clear();
    // The last run: tokens and bytes held by its trace.
    void setTraceSummary(qint64 tokens, qint64 bytes);

    // Text of one row by its label (for tests and accessibility).
    QString value(const QString& label) const;

    static QString formatCount(qint64 n);  // 260.1 K, 1.24 B
    static QString formatBytes(qint64 n);  // 1.5 MiB

private:
    void setRow(const QString& label, const QString& value);

    QFormLayout* m_form = nullptr;
    QLabel* m_empty = nullptr;
    QList<QPair<QLabel*, QLabel*>> m_rows;
};

}  // namespace attnscope::widgets
