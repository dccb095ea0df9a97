// What the KV-cache eviction panel draws, from core's plain KV structs (KvSelection,
// KvLocalMetrics, KvPolicyInfo): keep maps, survival masks, differences, metric and sweep
// curves. Pure functions, so that tests can check them without a panel; no core function
// is called (widgets do not link core), so the registry arrives as data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <QString>
#include <QStringList>
#include <QVector>

#include "attnscope/analyses/kv.h"  // plain structs only
#include "attnscope/views.h"

namespace attnscope::widgets {

// One row of a keep map: a whole layer (head = -1: the share of its query heads keeping a
// token) or one query head of it (what that head reads, whatever the policy's granularity).
struct KvMapRow {
    int layer = 0;
    int head = -1;
    bool operator==(const KvMapRow&) const = default;
};

// Every layer, and the query heads of `expandedLayer` right below it (-1: none).
std::vector<KvMapRow> kvMapRows(const KvSelection& sel, int expandedLayer);
QStringList kvMapRowLabels(const std::vector<KvMapRow>& rows);
int kvMapRowOf(const std::vector<KvMapRow>& rows, int layer, int head);  // -1 when absent

// The selection's head that query head `queryHead` reads (KvSelection::headOf, which lives in core).
int kvHeadOf(const KvSelection& sel, int queryHead);

// Decode steps the view can show (the continuation length; 0 in prefill), and the query the
// map shows at a step: prefill always the first continuation query T_p, decode T_p + step.
int kvStepCount(const KvSelection& sel);
int64_t kvMapQuery(const KvSelection& sel, int step);
// Map columns: the prompt in prefill, all T tokens in decode (later keys are "not yet").
int64_t kvMapColumns(const KvSelection& sel);

// Whether query head `queryHead` of `layer` still holds key j when query `query` runs.
bool kvIsKept(const KvSelection& sel, int layer, int queryHead, int64_t key, int64_t query);
// The keys it holds then, ascending (prefill at kvMapQuery: exactly KvSelection::kept).
std::vector<int64_t> kvKeptKeys(const KvSelection& sel, int layer, int queryHead, int64_t query);

// Rows x kvMapColumns: 1 kept, 0 evicted (layer rows: the share of heads), NaN for keys
// after the query.
Matrix2D kvKeepMatrix(const KvSelection& sel, const std::vector<KvMapRow>& rows, int64_t query);
// A's map minus B's (same rows and query; -1..1). Both must come from the same inputs.
Matrix2D kvDiffMatrix(const KvSelection& a, const KvSelection& b, const std::vector<KvMapRow>& rows, int64_t query);

// One value per token for a token strip: 1 kept, 0 evicted (head -1: share of heads), for
// the first `count` tokens (keys past the map's columns read 1: not evicted yet).
std::vector<float> kvStripMask(const KvSelection& sel, int layer, int queryHead, int64_t query, int64_t count);

// Regions every head of every layer keeps: the first `prefix` and the last `suffix` map
// columns up to the query (sinks/start tokens and the recent or observation window).
struct KvCommonRegions {
    int64_t prefix = 0, suffix = 0;
};
KvCommonRegions kvCommonRegions(const KvSelection& sel, int64_t query);

// Local metrics per layer (x = layer).
enum class KvLocalMetric { RetainedMass, OutputRelErr, ResidErr };
QVector<double> kvLayerMetric(const KvLocalMetrics& m, KvLocalMetric which);
QString kvLocalMetricName(KvLocalMetric which);
QString kvLocalMetricHelp(KvLocalMetric which);

// Budget sweeps: one point per (policy, budget), core's own row type.
using KvSweepPoint = KvSweepRow;
enum class KvSweepMetric { Kl, Top1, RetainedMass, OutputRelErr, Perplexity };
inline constexpr KvSweepMetric kAllKvSweepMetrics[] = {KvSweepMetric::Kl, KvSweepMetric::Top1,
                                                       KvSweepMetric::RetainedMass, KvSweepMetric::OutputRelErr,
                                                       KvSweepMetric::Perplexity};
QString kvSweepMetricName(KvSweepMetric which);  // axis title with its meaning
double kvSweepValue(const KvSweepPoint& p, KvSweepMetric which);
// One series per policy in first-seen order, points by ascending budget.
std::vector<Series> kvSweepSeries(const std::vector<KvSweepPoint>& points, KvSweepMetric which);
QString kvSweepCsv(const std::vector<KvSweepPoint>& points);
// Reads `attnscope-cli kv-sweep --csv` output (columns found by header name). Rows that do
// not parse are reported in `error` (empty when all rows parsed).
std::vector<KvSweepPoint> kvSweepFromCliCsv(const QString& text, QString* error = nullptr);

// Parameters: the value set in `params` or the spec's default; widget kind; tooltip.
double kvParamValue(const KvParams& params, const KvParamSpec& spec);
enum class KvParamWidget { Choice, Flag, Fraction, Integer };
KvParamWidget kvParamWidget(const KvParamSpec& spec);
QString kvParamTooltip(const KvPolicyInfo& policy, const KvParamSpec& spec);
QString kvPolicyTooltip(const KvPolicyInfo& policy);
const KvPolicyInfo* kvFindPolicy(const std::vector<KvPolicyInfo>& policies, const std::string& name);
// "h2o, B 64, recent 16" for legends and compare captions.
QString kvParamsLabel(const KvParams& params, const std::vector<KvPolicyInfo>& policies);

// Hover text of a keep-map cell.
QString kvCellText(const KvSelection& sel, const KvMapRow& row, int64_t key, int64_t query, float value,
                   const QString& tokenText);
// One line: policy, granularity, kept per head, metrics means.
QString kvSummary(const KvSelection& sel, const KvLocalMetrics& metrics);
QString kvEndToEndText(const KvEndToEnd& e);

}  // namespace attnscope::widgets
