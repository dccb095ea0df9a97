#include "model_summary.h"

#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

namespace attnscope::widgets {
namespace {

// Local names: deviceName()/dtypeName() live in attnscope_core, which widgets must not link.
QString deviceText(Device d) { return d == Device::CUDA ? QStringLiteral("cuda") : QStringLiteral("cpu"); }

QString dtypeText(DType t) {
    switch (t) {
    case DType::F32: return QStringLiteral("f32");
    case DType::BF16: return QStringLiteral("bf16");
    case DType::F16: return QStringLiteral("f16");
    }
    return {};
}

}  // namespace

ModelSummary::ModelSummary(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    m_empty = new QLabel(tr("No model loaded."), this);
    m_empty->setWordWrap(true);
    m_empty->setEnabled(false);
    outer->addWidget(m_empty);
    m_form = new QFormLayout;
    m_form->setLabelAlignment(Qt::AlignRight);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    outer->addLayout(m_form);
    outer->addStretch(1);
}

QString ModelSummary::formatCount(qint64 n) {
    const double v = double(n);
    if (v >= 1e9) return QStringLiteral("%1 B").arg(v / 1e9, 0, 'f', 2);
    if (v >= 1e6) return QStringLiteral("%1 M").arg(v / 1e6, 0, 'f', 1);
    if (v >= 1e3) return QStringLiteral("%1 K").arg(v / 1e3, 0, 'f', 1);
    return QString::number(n);
}

QString ModelSummary::formatBytes(qint64 n) {
    return QLocale::c().formattedDataSize(n, 1, QLocale::DataSizeIecFormat);
}

void ModelSummary::setRow(const QString& label, const QString& value) {
    for (auto& [l, v] : m_rows) {
        if (l->text() == label) {
            v->setText(value);
            return;
        }
    }
    auto* l = new QLabel(label, this);
    auto* v = new QLabel(value, this);
    v->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->setWordWrap(true);
    m_form->addRow(l, v);
    m_rows.append(qMakePair(l, v));
}

QString ModelSummary::value(const QString& label) const {
    for (const auto& [l, v] : m_rows)
        if (l->text() == label) return v->text();
    return {};
}

void ModelSummary::clear() {
    while (m_form->rowCount() > 0) m_form->removeRow(0);
    m_rows.clear();
    m_empty->show();
}

void ModelSummary::setInfo(const attnscope::ModelInfo& info) {
    clear();
    m_empty->hide();
    const QFileInfo file(QString::fromStdString(info.path));
    setRow(tr("Model"), file.fileName().isEmpty() ? file.filePath() : file.fileName());
    m_rows.back().second->setToolTip(file.filePath());
    setRow(tr("Architecture"), QString::fromStdString(info.arch));
    setRow(tr("Parameters"), formatCount(info.nParams));
    setRow(tr("Layers"), QString::number(info.nLayers));
    setRow(tr("Heads"), info.nKvHeads != info.nHeads
                            ? tr("%1 query / %2 key-value").arg(info.nHeads).arg(info.nKvHeads)
                            : QString::number(info.nHeads));
    setRow(tr("Head dim"), QString::number(info.headDim));
    setRow(tr("Model dim"), QString::number(info.dModel));
    setRow(tr("FFN dim"), QString::number(info.dFF));
    setRow(tr("Vocabulary"), QString::number(info.vocabSize));
    setRow(tr("Context"), QString::number(info.contextLength));
    setRow(tr("Attention"), info.slidingWindow > 0
                                ? tr("sliding window %1").arg(info.slidingWindow)
                                : tr("full causal"));
    setRow(tr("Weights"), QString::fromStdString(info.storedDtype));
    setRow(tr("Running on"), tr("%1, %2").arg(deviceText(info.device), dtypeText(info.dtype)));
}

void ModelSummary::setTraceSummary(qint64 tokens, qint64 bytes) {
    setRow(tr("Last run"), tr("%1 tokens, trace %2").arg(tokens).arg(formatBytes(bytes)));
}

}  // namespace attnscope::widgets
