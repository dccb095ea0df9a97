// The head-role detectors (attnscope/analyses/head_scores.h, reference §E) against independent
// references: pattern scores from attention materialized in double precision from the trace's
// own q and k; the induction and copying detectors on hand-built llama2.c models whose weights
// implement a previous-token head, an induction head and OV circuits of known spectrum; the
// select-and-copy scores at option positions found by counting newlines; the streaming-error
// proxy from materialized attention and values.
#include <QtTest>

#include <QTemporaryDir>
#include <cmath>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/model.h"
#include "head_scores_reference.h"
#include "test_models.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

// Head h's attention [T x T] in double precision from the trace's q and k (causal softmax).
std::vector<double> probabilities(const Trace& t, int layer, int h) {
    const Matrix2D q = t.captured(Capture::Q, layer), k = t.captured(Capture::K, layer);
    const int64_t T = t.length();
    const int d = t.headDim(), g = h / (t.nHeads() / t.nKvHeads());
    std::vector<double> p(size_t(T * T), 0.0);
    for (int64_t i = 0; i < T; ++i) {
        std::vector<double> s(size_t(i + 1));
        double mx = -1e300, z = 0;
        for (int64_t j = 0; j <= i; ++j) {
            double dot = 0;
            for (int c = 0; c < d; ++c)
                dot += double(q.at(i, int64_t(h) * d + c)) * double(k.at(j, int64_t(g) * d + c));
            s[size_t(j)] = dot / std::sqrt(double(d));
            mx = std::max(mx, s[size_t(j)]);
        }
        for (int64_t j = 0; j <= i; ++j) z += std::exp(s[size_t(j)] - mx);
        for (int64_t j = 0; j <= i; ++j) p[size_t(i * T + j)] = std::exp(s[size_t(j)] - mx) / z;
    }
    return p;
}

// TransformerLens' "mul" score Σ(A'⊙D)/ΣA' over the rows kept (reference §E.1), written out.
double tlScore(const std::vector<double>& A, const std::vector<int32_t>& tok, bool induction, bool matchedRows,
               bool excludeBos, bool excludeCurrent) {
    const int64_t T = int64_t(tok.size());
    auto D = [&](int64_t i, int64_t j) {
        if (j > i) return false;
        if (!induction) return j < i && tok[size_t(j)] == tok[size_t(i)];
        return j >= 1 && j - 1 < i && tok[size_t(j - 1)] == tok[size_t(i)];
    };
    double num = 0, den = 0;
    for (int64_t i = 0; i < T; ++i) {
        bool any = false;
        for (int64_t j = 0; j <= i; ++j) any = any || D(i, j);
        if (matchedRows && !any) continue;
        for (int64_t j = 0; j <= i; ++j) {
            const double a = (excludeBos && j == 0) || (excludeCurrent && j == i) ? 0.0 : A[size_t(i * T + j)];
            den += a;
            if (D(i, j)) num += a;
        }
    }
    return num / den;
}

float score(const HeadLayerScores& s, const std::string& id, int h) {
    for (size_t d = 0; d < s.infos.size(); ++d)
        if (s.infos[d].id == id) return s.values[d][size_t(h)];
    qFatal("detector %s not computed", id.c_str());
}

HeadDetectorParams only(std::vector<std::string> ids) {
    HeadDetectorParams p;
    p.detectors = std::move(ids);
    return p;
}

// ---- hand-built llama2.c models --------------------------------------------------------------

// dim 256, 2 heads of 128 (interleaved RoPE, θ_k = 10000^(−k/64)), 2 layers, vocabulary 48, no
// MLP (zero weights), unit norms, classifier shared with the embedding e_t = e_0 + e_{1+t}.
constexpr int kDim = 256, kHeadDim = 128, kVocab = 48, kFF = 16, kSeq = 128;

struct Llama2c {
    std::vector<float> wq[2], wk[2], wv[2], wo[2];  // per layer, [out, in] row-major (dim x dim)
    Llama2c() {
        for (int l = 0; l < 2; ++l)
            for (auto* w : {&wq[l], &wk[l], &wv[l], &wo[l]}) w->assign(size_t(kDim * kDim), 0.f);
    }
    static void set(std::vector<float>& w, int out, int in, float v) { w[size_t(out * kDim + in)] = v; }

    std::string write(const QTemporaryDir& dir, const char* name) const {
        const std::string path = dir.filePath(name).toStdString();
        std::ofstream f(path, std::ios::binary);
        const int32_t header[7] = {kDim, kFF, 2, 2, 2, kVocab, kSeq};
        f.write(reinterpret_cast<const char*>(header), sizeof header);
        auto put = [&](const std::vector<float>& v) {
            f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * 4));
        };
        std::vector<float> emb(size_t(kVocab * kDim), 0.f);
        for (int t = 0; t < kVocab; ++t) emb[size_t(t * kDim)] = emb[size_t(t * kDim + 1 + t)] = 1.f;
        const std::vector<float> ones2(size_t(2 * kDim), 1.f), ones(size_t(kDim), 1.f);
        put(emb);
        put(ones2);  // rms_att
        for (auto* w : {wq, wk, wv, wo})
            for (int l = 0; l < 2; ++l) put(w[l]);
        put(ones2);                                                                        // rms_ffn
        for (int m = 0; m < 3; ++m) put(std::vector<float>(size_t(2 * kFF * kDim), 0.f));  // w1 w2 w3
        put(ones);                                                                         // rms_final
        put(std::vector<float>(size_t(kSeq * kHeadDim), 0.f));                             // legacy RoPE tables
        return path;
    }
};

// Layer 0 head 0 attends to the previous token and writes its identity into dims 49..96; layer
// 1 head 0 matches the current token (dims 1..48) against that: an induction circuit. Other
// heads are zero (uniform attention). The previous-token head's q and k sit in the 16 fastest
// RoPE pairs, with k turned by θ_k so q_i·k_j ∝ Σ_k cos((i−j−1)θ_k), largest at j = i − 1; the
// induction head's sit in pairs 40..63 (θ ≤ 3e−3: still over the prompt).
std::string inductionModel(const QTemporaryDir& dir) {
    Llama2c m;
    const float x0 = 1.f / std::sqrt(2.f / kDim);  // RMSNorm of e_0 + e_{1+t}: each 1 → √(dim/2)
    const float a = 14.f;
    for (int k = 0; k < 16; ++k) {
        const double theta = std::pow(10000.0, -double(k) / 64.0);
        Llama2c::set(m.wq[0], 2 * k, 0, a / x0);
        Llama2c::set(m.wk[0], 2 * k, 0, float(a * std::cos(theta)) / x0);
        Llama2c::set(m.wk[0], 2 * k + 1, 0, float(a * std::sin(theta)) / x0);
    }
    for (int t = 0; t < kVocab; ++t) {
        Llama2c::set(m.wv[0], t, 1 + t, 1.f / x0);   // v_j = one-hot(tok_j)
        Llama2c::set(m.wo[0], 49 + t, t, 1.f);       // written to dims 49..96
        Llama2c::set(m.wq[1], 80 + t, 1 + t, 2.f);   // q: the current token
        Llama2c::set(m.wk[1], 80 + t, 49 + t, 2.f);  // k: the previous token
    }
    return m.write(dir, "induction.bin");
}

// Layer 0's OV circuits with known spectra (W_U = W_Eᵀ, unit final norm): head 0 copies every
// token (W_V W_O the projector on dims 1..48: M = E P Eᵀ, eigenvalues ≥ 0, score 1); head 1
// negated (score −1). Layer 1: head 0 maps token t to t+1 mod 48 (M a cyclic permutation,
// eigenvalues the 48th roots of unity: score 0); head 1 is zero (no eigenvalue: 0).
std::string copyingModel(const QTemporaryDir& dir) {
    Llama2c m;
    for (int t = 0; t < kVocab; ++t) {
        Llama2c::set(m.wv[0], t, 1 + t, 1.f);
        Llama2c::set(m.wo[0], 1 + t, t, 1.f);
        Llama2c::set(m.wv[0], kHeadDim + t, 1 + t, 1.f);
        Llama2c::set(m.wo[0], 1 + t, kHeadDim + t, -1.f);
        Llama2c::set(m.wv[1], t, 1 + t, 1.f);
        Llama2c::set(m.wo[1], 1 + (t + 1) % kVocab, t, 1.f);
    }
    return m.write(dir, "copying.bin");
}

std::unique_ptr<Inspector> openFile(const std::string& path) {
    auto inspector = std::make_unique<Inspector>();
    OpenOptions o;
    o.path = path;
    inspector->open(o);
    return inspector;
}

}  // namespace

class TestHeadRoles : public QObject {
    Q_OBJECT
private slots:
    // Duplicate-token and induction scores of every head against the TransformerLens formula
    // on materialized attention: matched rows and every row, with and without the exclusions.
    void patternScoresAgainstMaterialized_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("random GQA") << QString();
        for (const char* f : {"llama3", "qwen3", "gpt2", "gpt_neox"}) QTest::newRow(f) << QString::fromLatin1(f);
    }
    void patternScoresAgainstMaterialized() {
        QFETCH(QString, model);
        Inspector inspector;
        if (model.isEmpty()) inspector.adopt(headref::randomModel(11));  // GQA: 4 heads on 2 KV heads
        else inspector.adopt(testmodels::openFixture(model));  // Hugging Face fixtures (full causal attention)
        const int L = inspector.info().nLayers, H = inspector.info().nHeads;
        std::vector<int32_t> tok;
        for (int i = 0; i < std::min(150, inspector.info().contextLength); ++i)
            tok.push_back(int32_t((i * 7 + i / 13) % 23));  // repeats, not periodic
        inspector.setPrompt(tok);
        for (int rows = 0; rows < 2; ++rows)
            for (int ex = 0; ex < 4; ++ex) {
                HeadDetectorParams p = only({"duplicate_token", "induction"});
                p.matchedRows = rows == 0;
                p.excludeBos = ex & 1;
                p.excludeCurrent = ex & 2;
                for (int l = 0; l < L; ++l) {
                    const HeadLayerScores got = inspector.headScores(l, p);
                    for (int h = 0; h < H; ++h) {
                        const std::vector<double> A = probabilities(inspector.trace(), l, h);
                        const double dup = tlScore(A, tok, false, p.matchedRows, p.excludeBos, p.excludeCurrent);
                        const double ind = tlScore(A, tok, true, p.matchedRows, p.excludeBos, p.excludeCurrent);
                        QVERIFY2(std::abs(score(got, "duplicate_token", h) - dup) < 2e-5,
                                 qPrintable(QString("dup l%1 h%2 rows %3 ex %4").arg(l).arg(h).arg(rows).arg(ex)));
                        QVERIFY2(std::abs(score(got, "induction", h) - ind) < 2e-5,
                                 qPrintable(QString("ind l%1 h%2 rows %3 ex %4").arg(l).arg(h).arg(rows).arg(ex)));
                    }
                }
            }
        // A prompt that never repeats has no pattern entry: NaN, with a note saying so.
        inspector.setPrompt({5, 6, 7, 8, 9});
        const HeadLayerScores none = inspector.headScores(0, only({"induction"}));
        QVERIFY(std::isnan(score(none, "induction", 0)));
        QVERIFY(none.notes.at("induction").find("no prompt position") != std::string::npos);
    }

    // The hand-built induction circuit: its two heads are found, and nothing else scores.
    void inductionCircuit() {
        QTemporaryDir dir;
        auto inspector = openFile(inductionModel(dir));
        std::vector<int32_t> R(20);
        std::iota(R.begin(), R.end(), 0);
        std::shuffle(R.begin(), R.end(), std::mt19937(3));
        std::vector<int32_t> prompt = R;
        prompt.insert(prompt.end(), R.begin(), R.end());
        inspector->setPrompt(prompt);
        HeadDetectorParams p = only({"previous_token", "induction", "induction_repeated"});
        p.inductionLength = 20;
        const HeadScores t = inspector->headScores(p);
        auto v = [&](const char* id, int l, int h) { return (*t.find(id))[size_t(l * 2 + h)]; };
        QVERIFY2(v("previous_token", 0, 0) > 0.9f, qPrintable(QString::number(v("previous_token", 0, 0))));
        for (const char* id : {"induction", "induction_repeated"})
            for (int l = 0; l < 2; ++l)
                for (int h = 0; h < 2; ++h) {
                    const bool head = l == 1 && h == 0;
                    QVERIFY2(head ? v(id, l, h) > 0.9f : v(id, l, h) < 0.1f,
                             qPrintable(QString("%1 layer %2 head %3: %4").arg(id).arg(l).arg(h).arg(v(id, l, h))));
                }
        const std::vector<std::string> roles = headRoles(t);
        QCOMPARE(roles[0], std::string("previous-token"));
        QCOMPARE(roles[2], std::string("induction"));
        QCOMPARE(roles[1], std::string());
        QCOMPARE(roles[3], std::string());
        QVERIFY(t.notes.at("induction_repeated").find("20 distinct random tokens") != std::string::npos);
    }

    // OV circuits of known spectrum: +1, −1, 0 (roots of unity), 0 (no eigenvalue).
    void copyingSpectra() {
        QTemporaryDir dir;
        auto inspector = openFile(copyingModel(dir));
        inspector->setPrompt({1, 2, 3});
        const HeadScores t = inspector->headScores(only({"copying"}));
        const std::vector<float>& c = *t.find("copying");
        QVERIFY2(std::abs(c[0] - 1.f) < 1e-6, qPrintable(QString::number(c[0])));
        QVERIFY2(std::abs(c[1] + 1.f) < 1e-6, qPrintable(QString::number(c[1])));
        QVERIFY2(std::abs(c[2]) < 1e-6, qPrintable(QString::number(c[2])));
        QCOMPARE(c[3], 0.f);
        QCOMPARE(headRoles(t)[0], std::string("copying"));
        QCOMPARE(headRoles(t)[1], std::string());
    }

    // Select-and-copy on the built-in model: the options' end-of-line tokens are where the
    // decoded prefix gains its newlines, and the scores are the materialized A[last, p_c] and
    // the softmax over the options of the scaled q·k.
    void selectCopyAtTheOptions() {
        Inspector inspector;
        OpenOptions o;
        o.path = testmodels::builtinModelDir().toStdString();
        inspector.open(o);
        const std::string text = "Which animal barks?\nA. a cat\nB. a dog\nC. a fish\nD. a bird\nAnswer:";
        const std::vector<int32_t> ids = inspector.tokenize(text, true);
        inspector.setPrompt(ids);
        std::vector<int64_t> eol;  // the token at which the decoded prefix has its k-th newline
        for (size_t i = 0, seen = 0; i < ids.size(); ++i) {
            const std::string s = inspector.decode(std::vector<int32_t>(ids.begin(), ids.begin() + long(i) + 1));
            const size_t n = size_t(std::count(s.begin(), s.end(), '\n'));
            if (n > seen) eol.push_back(int64_t(i));
            seen = n;
        }
        QCOMPARE(eol.size(), size_t(5));  // the question's line, then the four options
        const std::vector<int64_t> keys(eol.begin() + 1, eol.end());
        for (const char* answer : {"", "B"}) {
            HeadDetectorParams p = only({"select_copy_qk", "select_copy_attn"});
            p.answer = answer;
            const Trace& trace = inspector.trace();
            const int64_t T = trace.length(), last = T - 1;
            for (int l = 0; l < trace.nLayers(); l += 2) {
                const HeadLayerScores got = inspector.headScores(l, p);
                const Matrix2D q = trace.captured(Capture::Q, l), k = trace.captured(Capture::K, l);
                for (int h = 0; h < trace.nHeads(); ++h) {
                    const std::vector<double> A = probabilities(trace, l, h);
                    const int d = trace.headDim(), g = h / (trace.nHeads() / trace.nKvHeads());
                    std::vector<double> att, logit;
                    for (int64_t key : keys) {
                        att.push_back(A[size_t(last * T + key)]);
                        double dot = 0;
                        for (int c = 0; c < d; ++c)
                            dot += double(q.at(last, int64_t(h) * d + c)) * k.at(key, int64_t(g) * d + c);
                        logit.push_back(dot / std::sqrt(double(d)));
                    }
                    const double mx = *std::max_element(logit.begin(), logit.end());
                    double z = 0;
                    for (double x : logit) z += std::exp(x - mx);
                    const size_t bestQk = size_t(std::max_element(logit.begin(), logit.end()) - logit.begin());
                    const size_t pickQk = *answer ? 1 : bestQk;
                    const double wantQk = std::exp(logit[pickQk] - mx) / z;
                    const double wantAttn = *answer ? att[1] : *std::max_element(att.begin(), att.end());
                    QVERIFY2(std::abs(score(got, "select_copy_qk", h) - wantQk) < 1e-4,
                             qPrintable(QString("qk l%1 h%2: %3 vs %4")
                                            .arg(l)
                                            .arg(h)
                                            .arg(score(got, "select_copy_qk", h))
                                            .arg(wantQk)));
                    QVERIFY2(std::abs(score(got, "select_copy_attn", h) - wantAttn) < 1e-5,
                             qPrintable(QString("attn l%1 h%2").arg(l).arg(h)));
                }
                QVERIFY(got.notes.at("select_copy_attn").find("options ABCD") != std::string::npos);
            }
        }
        // Not a multiple-choice prompt: NaN and a note.
        inspector.setPrompt(inspector.tokenize("Once upon a time there was a dog.", true));
        const HeadLayerScores none = inspector.headScores(0, only({"select_copy_attn"}));
        QVERIFY(std::isnan(score(none, "select_copy_attn", 0)));
        QVERIFY(none.notes.at("select_copy_attn").find("no options") != std::string::npos);
    }

    // The streaming-error proxy from materialized attention and values; w >= T gives 0.
    void retrievalAgainstMaterialized() {
        Inspector inspector;
        inspector.adopt(headref::randomModel(13));
        inspector.setPrompt(headref::ids(200));
        HeadDetectorParams p = only({"retrieval"});
        p.streamSinks = 4;
        p.streamWindow = 32;
        const HeadLayerScores got = inspector.headScores(1, p);
        const Trace& trace = inspector.trace();
        const Matrix2D v = trace.captured(Capture::V, 1);
        const int64_t T = 200, tail = 50;
        const int d = trace.headDim();
        for (int h = 0; h < 4; ++h) {
            const std::vector<double> A = probabilities(trace, 1, h);
            const int g = h / 2;
            double sum = 0;
            for (int64_t i = T - tail; i < T; ++i) {
                double mass = 0, num = 0, den = 0;
                for (int64_t j = 0; j <= i; ++j)
                    if (j < 4 || j > i - 32) mass += A[size_t(i * T + j)];
                for (int c = 0; c < d; ++c) {
                    double full = 0, kept = 0;
                    for (int64_t j = 0; j <= i; ++j) {
                        const double x = A[size_t(i * T + j)] * v.at(j, int64_t(g) * d + c);
                        full += x;
                        if (j < 4 || j > i - 32) kept += x;
                    }
                    num += (full - kept / mass) * (full - kept / mass);
                    den += full * full;
                }
                sum += std::sqrt(num / den);
            }
            QVERIFY2(std::abs(score(got, "retrieval", h) - sum / double(tail)) < 1e-4,
                     qPrintable(
                         QString("head %1: %2 vs %3").arg(h).arg(score(got, "retrieval", h)).arg(sum / double(tail))));
            QVERIFY(score(got, "retrieval", h) > 0);
        }
        p.streamWindow = 200;  // the whole prompt fits the window: nothing is dropped
        const HeadLayerScores all = inspector.headScores(1, p);
        for (int h = 0; h < 4; ++h) QCOMPARE(score(all, "retrieval", h), 0.f);
    }

    // stories260K (a real trained model): pattern scores against materialized attention.
    void storiesAgainstMaterialized() {
        const QString dir = testpaths::stories260K();
        if (dir.isEmpty()) QSKIP("stories260K not found beside the checkout (../shared/models)");
        Inspector inspector;
        inspector.adopt(testmodels::openStories(dir));
        const std::vector<int32_t> tok = inspector.tokenize(
            "Lily saw a cat. The cat was big. Lily saw a dog. The dog was big. Lily saw a cat.", true);
        inspector.setPrompt(tok);
        const HeadScores t = inspector.headScores(only({"duplicate_token", "induction", "previous_token"}));
        for (int l = 0; l < t.nLayers; ++l)
            for (int h = 0; h < t.nHeads; ++h) {
                const std::vector<double> A = probabilities(inspector.trace(), l, h);
                const size_t i = size_t(l * t.nHeads + h);
                QVERIFY(std::abs((*t.find("duplicate_token"))[i] - tlScore(A, tok, false, true, false, false)) < 2e-5);
                QVERIFY(std::abs((*t.find("induction"))[i] - tlScore(A, tok, true, true, false, false)) < 2e-5);
            }
    }

    // Unknown detectors and thresholds are refused with the known names.
    void badParameters() {
        Inspector inspector;
        inspector.adopt(headref::randomModel(1));
        inspector.setPrompt(headref::ids(8));
        try {
            (void)inspector.headScores(0, only({"nope"}));
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("previous_token") != std::string::npos);
        }
        HeadDetectorParams p;
        p.thresholds["entropy"] = 1;  // entropy is not a role
        QVERIFY_THROWS_EXCEPTION(Error, (void)inspector.headScores(0, p));
    }
};

QTEST_GUILESS_MAIN(TestHeadRoles)
#include "tst_head_roles.moc"
