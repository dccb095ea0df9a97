// Shared by the app-level tests (tests/app): model paths, waiting for the real main window,
// and attention probabilities computed here from a trace's q and k with the textbook
// formula softmax(q k^T / sqrt(d)) under the causal mask, in double precision, so the
// window's values are checked against something other than its own data path.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <QSignalSpy>
#include <QString>
#include <QTest>

#include "attnscope/model.h"
#include "main_window.h"
#include "metatypes.h"
#include "model_locator.h"
#include "test_paths.h"

// initTestCase of a window test on stories260K: metatypes registered, the test skipped with a
// message where ../shared is absent (a user's clone).
#define APPTEST_REQUIRE_STORIES()                                                                   \
    do {                                                                                           \
        attnscope::widgets::registerMetaTypes();                                                   \
        if (testpaths::stories260K().isEmpty())                                                    \
            QSKIP("stories260K not found beside the checkout (../shared/models/stories260K)");     \
    } while (0)

namespace apptest {

inline attnscope::app::ModelRequest storiesRequest() {
    const QString dir = testpaths::stories260K();
    return {dir + QStringLiteral("/stories260K.bin"), dir + QStringLiteral("/tok512.bin")};
}

// The stories260K model of storiesRequest() opened here, in the test's thread (for references).
inline std::unique_ptr<attnscope::Model> openStories() {
    attnscope::OpenOptions o;
    o.path = storiesRequest().path.toStdString();
    o.tokenizerPath = storiesRequest().tokenizer.toStdString();
    return attnscope::Model::open(o);
}

inline QString defaultModelDir() {
    return QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny");
}

// How many times `spy` (on MainWindow::panelShown) saw panel `id`.
inline int timesShown(const QSignalSpy& spy, const QString& id) {
    int n = 0;
    for (const QList<QVariant>& a : spy) n += a.at(0).toString() == id;
    return n;
}

// The real main window at 1600 x 1000 on the built-in model with `prompt`, `panel` raised (a
// section dock computes while on screen). Spy on panelShown before calling it.
inline void openBuiltIn(attnscope::app::MainWindow& w, const QString& prompt, const QString& panel) {
    w.resize(1600, 1000);
    w.show();
    w.setPromptText(prompt);
    w.openModel(attnscope::app::ModelRequest{defaultModelDir(), {}});
    w.showPanel(panel);
}

// Waits for the next viewShown of `window` (spy created before the action that causes it).
inline bool waitForView(QSignalSpy& spy, int timeoutMs = 60000) {
    return spy.count() > 0 || spy.wait(timeoutMs);
}

// P[q][k] for one layer and query head (head -1: the mean over query heads), from the
// post-RoPE q and k the core captured.
class ReferenceAttention {
public:
    ReferenceAttention(attnscope::Model& model, const std::string& prompt) {
        m_ids = model.tokenize(prompt, /*addSpecial=*/true);
        m_trace = model.run(m_ids);
    }
    int64_t length() const { return m_trace->length(); }
    const std::vector<int32_t>& ids() const { return m_ids; }

    std::vector<double> probabilities(int layer, int head) const {
        const int H = m_trace->nHeads();
        if (head >= 0) return oneHead(layer, head);
        std::vector<double> mean;
        for (int h = 0; h < H; ++h) {
            const std::vector<double> p = oneHead(layer, h);
            if (mean.empty()) mean.assign(p.size(), 0.0);
            for (size_t i = 0; i < p.size(); ++i) mean[i] += p[i] / H;
        }
        return mean;
    }

private:
    std::vector<double> oneHead(int layer, int head) const {
        const attnscope::Matrix2D q = m_trace->captured(attnscope::Capture::Q, layer);
        const attnscope::Matrix2D k = m_trace->captured(attnscope::Capture::K, layer);
        const int64_t T = m_trace->length();
        const int d = m_trace->headDim();
        const int g = head / (m_trace->nHeads() / m_trace->nKvHeads());  // grouped-query KV head
        std::vector<double> p(size_t(T * T), 0.0);
        for (int64_t i = 0; i < T; ++i) {
            double maxS = -1e300;
            std::vector<double> s(size_t(i + 1));
            for (int64_t j = 0; j <= i; ++j) {
                double dot = 0.0;
                for (int c = 0; c < d; ++c)
                    dot += double(q.at(i, int64_t(head) * d + c)) * double(k.at(j, int64_t(g) * d + c));
                s[size_t(j)] = dot / std::sqrt(double(d));
                maxS = std::max(maxS, s[size_t(j)]);
            }
            double z = 0.0;
            for (double& v : s) z += (v = std::exp(v - maxS));
            for (int64_t j = 0; j <= i; ++j) p[size_t(i * T + j)] = s[size_t(j)] / z;
        }
        return p;
    }

    std::vector<int32_t> m_ids;
    std::unique_ptr<attnscope::Trace> m_trace;
};

}  // namespace apptest
