// The cheap half of the sinks analysis: everything that depends on a threshold. Pure
// arithmetic on SinkInputs (no trace, no torch), so the panel can re-run it on every
// parameter edit. Follows Wong et al.'s hidden_state_norm_detection and
// sink_labeling_machine (reference §1.2–§1.4) unless a [RECON] option is chosen.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "attnscope/analyses/sinks.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"

namespace attnscope {
namespace {

constexpr EnumName<SinkClass> kSinkClassNames[] = {
    {SinkClass::None, "none"}, {SinkClass::Primary, "primary"}, {SinkClass::Secondary, "secondary"},
    {SinkClass::Noise, "noise"}};
constexpr EnumName<SinkSource> kSinkSourceNames[] = {
    {SinkSource::Auto, "auto"}, {SinkSource::Hidden, "hidden"}, {SinkSource::Attention, "attention"}};
constexpr EnumName<SinkRule> kSinkRuleNames[] = {
    {SinkRule::Auto, "auto"}, {SinkRule::Official, "official"}, {SinkRule::Relative, "relative"}};

}  // namespace

const char* sinkClassName(SinkClass c) { return enumName(kSinkClassNames, c); }

const char* sinkSourceName(SinkSource s) { return enumName(kSinkSourceNames, s); }
const char* sinkRuleName(SinkRule r) { return enumName(kSinkRuleNames, r); }
SinkSource parseSinkSource(const std::string& s) { return parseEnum(kSinkSourceNames, s, "sink source"); }
SinkRule parseSinkRule(const std::string& s) { return parseEnum(kSinkRuleNames, s, "sink rule"); }

int SinkResult::count(SinkClass c) const {
    return int(std::count_if(sinks.begin(), sinks.end(), [c](const SinkToken& s) { return s.cls == c; }));
}

namespace {

int64_t referenceIndex(const SinkInputs& in, int64_t pos) {
    const auto it = std::find(in.references.begin(), in.references.end(), pos);
    return it == in.references.end() ? -1 : int64_t(it - in.references.begin());
}

std::vector<int64_t> validCandidates(const SinkInputs& in, const SinkParams& p) {
    std::vector<int64_t> c;
    for (int64_t pos : p.bosCandidates)
        if (pos >= 0 && pos < in.T) c.push_back(pos);
    return c;
}

// p0: the candidate with the largest mean ||h|| over layers (first on ties, as torch.argmax);
// without hidden states, the largest mean sink score.
int64_t choosePrimary(const SinkInputs& in, const std::vector<int64_t>& candidates) {
    const std::vector<float>& v = in.hasHidden() ? in.hiddenNorm : in.sinkScore;
    int64_t best = candidates.front();
    double bestMean = -1;
    for (int64_t c : candidates) {
        double m = 0;
        for (int l = 0; l < in.nLayers; ++l) m += v[size_t(int64_t(l) * in.T + c)];
        m /= in.nLayers;
        if (m > bestMean) best = c, bestMean = m;
    }
    return best;
}

// The official "sink clipper": l_on = argmax Δ + 1, l_off = argmin_{l >= l_on} Δ + 1 with
// Δ^l = b^{l+1} − b^l. When the largest jump is into the last layer nothing follows it and
// the range runs to the end (the official code would fail on an empty argmin there).
std::pair<int, int> onsetOffset(const std::vector<float>& b) {
    const int L = int(b.size());
    if (L < 2) return {0, L};
    int on = 0;
    for (int l = 1; l + 1 < L; ++l)
        if (b[size_t(l + 1)] - b[size_t(l)] > b[size_t(on + 1)] - b[size_t(on)]) on = l;
    on += 1;
    if (on > L - 2) return {on, L};
    int off = on;
    for (int l = on + 1; l + 1 < L; ++l)
        if (b[size_t(l + 1)] - b[size_t(l)] < b[size_t(off + 1)] - b[size_t(off)]) off = l;
    return {on, off + 1};
}

SinkClass classify(const SinkToken& s, SinkRule rule, const SinkParams& p, int L, int on, int off) {
    const int lambda = s.lifetime;
    if (rule == SinkRule::Official) {
        // Same order as sink_labeling_machine: the secondary test comes first.
        if (lambda > p.noiseMaxLifetime && lambda < L - p.primaryLayerMargin) return SinkClass::Secondary;
        if (lambda >= L - p.primaryLayerMargin) return SinkClass::Primary;
        return SinkClass::Noise;
    }
    if (lambda >= p.relativeCut * (off - on) && s.creationLayer <= on + p.relativeStartSlack)
        return SinkClass::Primary;
    return lambda > p.noiseMaxLifetime ? SinkClass::Secondary : SinkClass::Noise;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) { return fitLine(x, y).r; }

}  // namespace

bool needsRecompute(const SinkInputs& in, const SinkParams& p) {
    if (p.minQueryPos != in.minQueryPos) return true;
    if (!in.hasHidden() && !in.hasMlp()) return false;
    for (int64_t c : validCandidates(in, p))
        if (referenceIndex(in, c) < 0) return true;
    return false;
}

SinkResult classifySinks(const SinkInputs& in, const SinkParams& p) {
    const int64_t T = in.T;
    const int L = in.nLayers, H = in.nHeads;
    if (T <= 0 || L <= 0 || H <= 0 || in.sinkScore.size() != size_t(int64_t(L) * T) ||
        in.headAlpha.size() != size_t(int64_t(L) * H * T))
        fail(ErrorKind::BadInput, "sink inputs are empty or inconsistent");
    const std::vector<int64_t> candidates = validCandidates(in, p);
    if (candidates.empty()) fail(ErrorKind::BadInput, "no candidate BOS position lies inside the prompt");
    if (needsRecompute(in, p))
        fail(ErrorKind::BadInput, "sink inputs were computed for another min query position or without a BOS "
                                  "candidate's cosines; recompute them");

    SinkResult r;
    r.T = T;
    r.nLayers = L;
    r.source = p.source == SinkSource::Auto ? (in.hasHidden() ? SinkSource::Hidden : SinkSource::Attention) : p.source;
    if (r.source == SinkSource::Hidden && !in.hasHidden())
        fail(ErrorKind::BadInput, "the hidden-state sink test needs hidden states (the trace dropped resid_out)");
    // Auto: the official rule only when some lifetime can be secondary (4 < λ < L − 15).
    const bool officialPossible = p.noiseMaxLifetime + 1 < L - p.primaryLayerMargin;
    r.rule = p.rule == SinkRule::Auto ? (officialPossible ? SinkRule::Official : SinkRule::Relative) : p.rule;

    r.primary = choosePrimary(in, candidates);
    const int64_t p0 = r.primary;
    const int64_t ref = referenceIndex(in, p0);
    if (in.hasHidden()) {
        r.primaryNorm.resize(size_t(L));
        for (int l = 0; l < L; ++l) r.primaryNorm[size_t(l)] = in.hiddenNorm[size_t(int64_t(l) * T + p0)];
    }
    std::tie(r.onset, r.offset) =
        in.hasHidden() && p.sinkClipper ? onsetOffset(r.primaryNorm) : std::pair<int, int>{0, L};

    // Per layer: the views, then the flag d^l_t inside [l_on, l_off) for t >= p0.
    r.layers.resize(size_t(L));
    for (int l = 0; l < L; ++l) {
        SinkLayer& y = r.layers[size_t(l)];
        const size_t row = size_t(int64_t(l) * T);
        const auto span = [&](const std::vector<float>& v, size_t at) {
            return std::vector<float>(v.begin() + std::ptrdiff_t(at), v.begin() + std::ptrdiff_t(at + size_t(T)));
        };
        y.sinkScore = span(in.sinkScore, row);
        y.fracHeads.assign(size_t(T), 0.f);
        for (int h = 0; h < H; ++h) {
            const float* a = in.headAlpha.data() + (int64_t(l) * H + h) * T;
            for (int64_t t = 0; t < T; ++t) y.fracHeads[size_t(t)] += a[t] > p.epsilon ? 1.f : 0.f;
        }
        for (float& f : y.fracHeads) f /= float(H);
        if (in.hasHidden()) {
            y.cosToPrimary = span(in.hiddenCos, size_t((ref * L + l) * T));
            y.hiddenNorm = span(in.hiddenNorm, row);
            y.massive.resize(size_t(T));
            const double cut = std::max(p.massiveMin, p.massiveMedianRatio * in.hiddenMedianAbs[size_t(l)]);
            for (int64_t t = 0; t < T; ++t) y.massive[size_t(t)] = in.hiddenMaxAbs[row + size_t(t)] > cut;
        }
        if (in.hasMlp()) {
            y.mlpCosToPrimary = span(in.mlpCos, size_t((ref * L + l) * T));
            y.mlpNorm = span(in.mlpNorm, row);
        }
        y.flagged.assign(size_t(T), 0);
        if (l < r.onset || l >= r.offset) continue;
        const double scoreCut = std::max(p.fallbackMinScore, p.fallbackMedianRatio * in.scoreMedian[size_t(l)]);
        for (int64_t t = p0; t < T; ++t)
            y.flagged[size_t(t)] = r.source == SinkSource::Hidden ? std::abs(y.cosToPrimary[size_t(t)]) > p.cosThreshold
                                                                  : y.sinkScore[size_t(t)] > scoreCut;
    }

    // Per token: layers(t), λ, creation layer, class.
    for (int64_t t = p0; t < T; ++t) {
        SinkToken s;
        for (int l = r.onset; l < r.offset; ++l)
            if (r.layers[size_t(l)].flagged[size_t(t)]) s.layers.push_back(l);
        if (s.layers.empty()) continue;
        s.token = t;
        s.id = t < int64_t(in.ids.size()) ? in.ids[size_t(t)] : 0;
        s.lifetime = int(s.layers.size());
        s.creationLayer = s.layers.front();
        double sum = 0;
        int run = 0;
        for (size_t i = 0; i < s.layers.size(); ++i) {
            sum += r.layers[size_t(s.layers[i])].sinkScore[size_t(t)];
            run = i > 0 && s.layers[i] == s.layers[i - 1] + 1 ? run + 1 : 1;
            s.maxRun = std::max(s.maxRun, run);
        }
        s.meanScore = float(sum / s.lifetime);
        if (in.hasMlp()) {
            const SinkLayer& c = r.layers[size_t(s.creationLayer)];
            s.mlpNormAtCreation = c.mlpNorm[size_t(t)];
            s.mlpCosAtCreation = c.mlpCosToPrimary[size_t(t)];
        }
        s.cls = classify(s, r.rule, p, L, r.onset, r.offset);
        r.sinks.push_back(std::move(s));
    }

    // Per layer: primary strength, weakening, secondary creations.
    float strongest = 0;
    for (const SinkLayer& y : r.layers) strongest = std::max(strongest, y.sinkScore[size_t(p0)]);
    for (SinkLayer& y : r.layers) {
        y.primaryStrength = y.sinkScore[size_t(p0)];
        y.weakening = strongest > 0 ? 1.f - y.primaryStrength / strongest : 0.f;
    }
    for (const SinkToken& s : r.sinks)
        if (s.cls == SinkClass::Secondary) r.layers[size_t(s.creationLayer)].secondaryCreated++;

    // Levels: distinct (creation layer, lifetime); the class follows from the pair.
    std::map<std::pair<int, int>, size_t> index;
    for (const SinkToken& s : r.sinks) {
        const auto key = std::make_pair(s.creationLayer, s.lifetime);
        auto it = index.find(key);
        if (it == index.end()) {
            it = index.emplace(key, r.levels.size()).first;
            r.levels.push_back({s.creationLayer, s.lifetime, 0, 0.f, s.cls, {}});
        }
        SinkLevel& v = r.levels[it->second];
        v.count++;
        v.meanScore += s.meanScore;
        v.tokens.push_back(s.token);
    }
    for (SinkLevel& v : r.levels) v.meanScore /= float(v.count);
    std::sort(r.levels.begin(), r.levels.end(), [](const SinkLevel& a, const SinkLevel& b) {
        return std::tie(a.creationLayer, a.lifetime) < std::tie(b.creationLayer, b.lifetime);
    });

    // "The norm of the MLP output determines score and lifetime": fit over real sinks.
    if (in.hasMlp()) {
        std::vector<double> rho, score, life;
        for (const SinkToken& s : r.sinks)
            if (s.cls == SinkClass::Primary || s.cls == SinkClass::Secondary) {
                rho.push_back(s.mlpNormAtCreation);
                score.push_back(s.meanScore);
                life.push_back(s.lifetime);
            }
        r.scoreVsMlpNorm = fitLine(rho, score);
        r.lifetimeVsMlpNorm = fitLine(rho, life);
    }
    std::vector<double> w, created;
    for (const SinkLayer& y : r.layers) {
        w.push_back(y.weakening);
        created.push_back(y.secondaryCreated);
    }
    r.weakeningVsCreations = pearson(w, created);
    return r;
}

}  // namespace attnscope
