// The quantization lab on real models (issue 8): the built-in attnscope-tiny, the HF fixtures
// of every architecture and stories260K (skipped when absent). References: the models'
// own logits through the public Model::run (perplexity), the files' weight matrices through
// Model::weightMatrix, calibration statistics recomputed here from the trace, and the
// optimality of QERA-exact on those statistics.
#include <QFile>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "attnscope/analyses/quant.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

std::string defaultModelDir() { return QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny").toStdString(); }

std::string heldout() {
    QFile f(testpaths::data("heldout_slice.txt"));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll().toStdString();
}

// exp(mean NLL) of next tokens from Model::run's logits, computed here.
double perplexityOf(Model& m, const std::vector<int32_t>& ids) {
    const Matrix2D logits = m.run(ids)->logits();
    double nll = 0;
    for (int64_t t = 0; t + 1 < int64_t(ids.size()); ++t) {
        double mx = -INFINITY, sum = 0;
        for (int64_t v = 0; v < logits.cols; ++v) mx = std::max(mx, double(logits.at(t, v)));
        for (int64_t v = 0; v < logits.cols; ++v) sum += std::exp(double(logits.at(t, v)) - mx);
        nll -= double(logits.at(t, ids[size_t(t + 1)])) - mx - std::log(sum);
    }
    return std::exp(nll / double(ids.size() - 1));
}

}  // namespace

class TestQuantModels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matricesOfDefaultModel();
    void calibrationMatchesTrace();
    void perplexityAndKl();
    void reconstructionOnDefaultModel();
    void fixtures();
    void stories260K();
    void kvOnDefaultModel();
    void scoresOnDefaultModel();

private:
    std::unique_ptr<Model> m_model;
    std::vector<int32_t> m_ids;  // 256 held-out tokens
};

void TestQuantModels::initTestCase() {
    m_model = Model::open({defaultModelDir(), "", Device::CPU, DType::F32});
    const std::string text = heldout();
    QVERIFY(!text.empty());
    m_ids = m_model->tokenize(text, true);
    QVERIFY(m_ids.size() > 600);
    m_ids.resize(256);
}

void TestQuantModels::matricesOfDefaultModel() {
    const std::vector<QuantMatrix> ms = quantMatrices(*m_model);
    QCOMPARE(ms.size(), size_t(6 * 7));
    std::set<std::string> files;
    for (const auto& w : m_model->weightTensors()) files.insert(w.name);
    for (const QuantMatrix& q : ms) {
        QVERIFY2(files.count(q.name), q.name.c_str());
        const Matrix2D a = m_model->weightMatrix(q.name), b = quantMatrixWeight(*m_model, q);
        QCOMPARE(a.rows, q.rows);
        QCOMPARE(a.cols, q.cols);
        QVERIFY(a.data == b.data);  // the decoder's weights are the file's (bf16 → f32 exact)
    }
}

void TestQuantModels::calibrationMatchesTrace() {
    const std::vector<int32_t> ids(m_ids.begin(), m_ids.begin() + 64);
    const Calibration c = calibrate(*m_model, {ids}, {});
    QCOMPARE(c.tokens, int64_t(64));
    const auto trace = m_model->run(ids);
    for (int l : {0, 5})
        for (auto [cap, in] : {std::pair{Capture::AttnIn, LinearInput::AttnIn}, std::pair{Capture::HeadOut, LinearInput::HeadOut},
                               std::pair{Capture::MlpIn, LinearInput::MlpIn}}) {
            const Matrix2D x = trace->captured(cap, l);
            const InputStats& s = c.of(l, in);
            QCOMPARE(s.dim, x.cols);
            for (int64_t i = 0; i < x.cols; i += 7)
                for (int64_t j = 0; j < x.cols; j += 5) {
                    double r = 0;
                    for (int64_t t = 0; t < x.rows; ++t) r += double(x.at(t, i)) * x.at(t, j);
                    r /= double(x.rows);
                    QVERIFY(std::fabs(s.r[size_t(i * x.cols + j)] - r) < 1e-5 * (1 + std::fabs(r)));
                }
            for (int64_t i = 0; i < x.cols; ++i) {
                double ma = 0;
                for (int64_t t = 0; t < x.rows; ++t) ma += std::fabs(x.at(t, i));
                QVERIFY(std::fabs(s.meanAbs[size_t(i)] - ma / double(x.rows)) < 1e-5);
            }
        }
    QCOMPARE(c.of(0, LinearInput::DownIn).dim, int64_t(256));

    // RSQ AttnCon weighting: w_t from the attention mass token t receives (every head, every
    // query; exact tiles of the trace), min-max to [0.005, 1], mean 1; R = Σ w_t x_tᵀx_t / N.
    CalibParams rsq;
    rsq.rsqWeighting = true;
    const Calibration cw = calibrate(*m_model, {ids}, rsq);
    for (int l : {1, 4}) {
        std::vector<double> w(ids.size(), 0.0);
        for (int h = 0; h < m_model->info().nHeads; ++h) {
            const Matrix2D a = trace->attentionTile(l, h, 0, 64, 0, 64);
            for (int64_t i = 0; i < 64; ++i)
                for (int64_t j = 0; j < 64; ++j) w[size_t(j)] += a.at(i, j);
        }
        const double mn = *std::min_element(w.begin(), w.end()), mx = *std::max_element(w.begin(), w.end());
        double sum = 0;
        for (double& x : w) sum += (x = (x - mn) / (mx - mn) * (1 - 0.005) + 0.005);
        for (double& x : w) x *= 64 / sum;
        const Matrix2D x = trace->captured(Capture::MlpIn, l);
        const InputStats& s = cw.of(l, LinearInput::MlpIn);
        for (int64_t i = 0; i < x.cols; i += 11)
            for (int64_t j = 0; j < x.cols; j += 13) {
                double r = 0;
                for (int64_t t = 0; t < x.rows; ++t) r += w[size_t(t)] * x.at(t, i) * x.at(t, j);
                r /= double(x.rows);
                QVERIFY(std::fabs(s.r[size_t(i * x.cols + j)] - r) < 1e-4 * (1 + std::fabs(r)));
            }
    }
}

void TestQuantModels::perplexityAndKl() {
    const auto windows = splitWindows(m_ids, 128, m_ids[0]);
    QCOMPARE(windows.size(), size_t(3));  // 128 + (1 + 127) + (1 + 1)
    QCOMPARE(windows[1][0], m_ids[0]);
    // The unmodified copy is the same model: KL 0 and the perplexity computed from Model::run.
    std::vector<Matrix2D> same;
    for (const QuantMatrix& q : quantMatrices(*m_model)) same.push_back(quantMatrixWeight(*m_model, q));
    const auto copy = modelWithWeights(*m_model, same);
    const EvalResult e = compareModels(*m_model, *copy, {m_ids});
    QCOMPARE(e.tokens, int64_t(255));
    QVERIFY(std::fabs(e.kl) < 1e-12);
    QCOMPARE(e.top1Agreement, 1.0);
    QVERIFY(std::fabs(e.pplRef / perplexityOf(*m_model, m_ids) - 1) < 1e-6);
    QCOMPARE(e.ppl, e.pplRef);
    // Fewer bits, more damage.
    const Calibration c = calibrate(*m_model, {m_ids}, {});
    double lastKl = -1;
    for (int bits : {8, 4, 3, 2}) {
        QuantParams p;
        p.quant = {"rtn-sym", bits, -1};
        const QuantModelResult r = quantizeModel(*m_model, c, {m_ids}, p);
        QVERIFY(std::fabs(r.pplFp / e.pplRef - 1) < 1e-9);
        QVERIFY2(r.kl > lastKl, qPrintable(QString("%1 bits: KL %2").arg(bits).arg(r.kl)));
        if (bits == 8) QVERIFY(r.kl < 1e-3 && std::fabs(r.ppl / r.pplFp - 1) < 0.01);
        lastKl = r.kl;
    }
}

void TestQuantModels::reconstructionOnDefaultModel() {
    const Calibration c = calibrate(*m_model, splitWindows(m_ids, 128, m_ids[0]), {});
    QuantParams p;
    p.quant = {"rtn-sym", 3, -1};
    p.evaluate = false;
    const QuantModelResult none = quantizeModel(*m_model, c, {}, p);
    p.recon = ReconMethod::QeraExact;
    p.rank = 32;
    const QuantModelResult qera = quantizeModel(*m_model, c, {}, p);
    QCOMPARE(qera.matrices.size(), none.matrices.size());
    for (size_t i = 0; i < none.matrices.size(); ++i) {
        QCOMPARE(qera.matrices[i].quant.outputRelErr, none.matrices[i].recon.outputRelErr);
        QVERIFY(qera.matrices[i].recon.outputRelErr < none.matrices[i].recon.outputRelErr);
    }
    // The panel's labs (every method, every rank) agree with the pipeline at rank 32.
    const std::vector<ReconLab> labs = reconLabs(*m_model, c, {"rtn-sym", 3, -1});
    QCOMPARE(labs.size(), qera.matrices.size());
    for (size_t i = 0; i < labs.size(); ++i) {
        QVERIFY(std::fabs(labs[i].at(ReconMethod::QeraExact, 32).outputRelErr - qera.matrices[i].recon.outputRelErr) < 1e-9);
        QVERIFY(std::fabs(labs[i].quantOnly().weightRelErr - none.matrices[i].quant.weightRelErr) < 1e-12);
    }
    // One matrix, every method: QERA-exact's curve lies under the others at every rank.
    const QuantMatrix m = quantMatrices(*m_model)[3];  // layer 0 o_proj (a copy: the list is a temporary)
    const Matrix2D w = quantMatrixWeight(*m_model, m);
    const Matrix2D wq{w.rows, w.cols, fakeQuantize(w.data.data(), w.rows, w.cols, {"rtn-sym", 3, -1})};
    const ReconLab lab(w, wq, c.of(m.layer, m.input));
    for (int k = 0; k <= lab.maxRank(); ++k)
        for (ReconMethod other : {ReconMethod::Lorc, ReconMethod::Lqer, ReconMethod::QeraApprox})
            QVERIFY2(lab.at(ReconMethod::QeraExact, k).outputRelErr <= lab.at(other, k).outputRelErr + 1e-6,  // sqrt of ~1e-16 cancellation
                     qPrintable(QString("rank %1: %2 vs %3 %4").arg(k).arg(lab.at(ReconMethod::QeraExact, k).outputRelErr, 0, 'g', 12)
                                    .arg(reconMethodName(other)).arg(lab.at(other, k).outputRelErr, 0, 'g', 12)));
}

void TestQuantModels::fixtures() {
    for (const char* name : {"llama2", "llama3", "mistral", "qwen2", "qwen3", "gpt2", "gpt_neox"}) {
        const auto m = Model::open({testpaths::data(QString("models/") + name).toStdString(), "", Device::CPU, DType::F32});
        std::set<std::string> files;
        for (const auto& w : m->weightTensors()) files.insert(w.name);
        const std::vector<QuantMatrix> ms = quantMatrices(*m);
        QCOMPARE(int(ms.size()) % m->info().nLayers, 0);
        for (const QuantMatrix& q : ms) {
            const std::string file = q.name.substr(0, q.name.find('['));
            QVERIFY2(files.count(file), (std::string(name) + ": " + q.name).c_str());
            QCOMPARE(q.cols, q.input == LinearInput::AttnIn || q.input == LinearInput::MlpIn
                                 ? int64_t(m->info().dModel)
                                 : q.input == LinearInput::HeadOut ? int64_t(m->info().nHeads) * m->info().headDim
                                                                   : int64_t(m->info().dFF));
        }
        std::vector<int32_t> ids;
        for (int i = 0; i < 24; ++i) ids.push_back((i * 37 + 5) % m->info().vocabSize);
        const Calibration c = calibrate(*m, {ids}, {});
        QuantParams p;
        p.quant = {"rtn-asym", 8, -1};
        p.recon = ReconMethod::QeraExact;
        p.rank = 4;
        const QuantModelResult r = quantizeModel(*m, c, {ids}, p);
        QVERIFY2(std::isfinite(r.ppl) && r.kl >= 0 && r.kl < 1e-2, qPrintable(QString("%1: KL %2").arg(name).arg(r.kl)));
        for (const QuantMatrixResult& x : r.matrices) QVERIFY(x.recon.outputRelErr <= x.quant.outputRelErr + 1e-9);
    }
}

void TestQuantModels::stories260K() {
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
    const auto m = Model::open({(dir + "/stories260K.bin").toStdString(), (dir + "/tok512.bin").toStdString(),
                                Device::CPU, DType::F32});
    const std::vector<int32_t> ids = m->tokenize("Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.", true);
    const Calibration c = calibrate(*m, {ids}, {});
    for (const QuantMatrix& q : quantMatrices(*m)) {
        const Matrix2D w = quantMatrixWeight(*m, q);
        const Matrix2D wq{w.rows, w.cols, fakeQuantize(w.data.data(), w.rows, w.cols, {"mxint", 4, 0})};
        const ReconLab lab(w, wq, c.of(q.layer, q.input), {SqrtRoute::Cholesky, 1e-8, 1e-6, {}});
        for (int k : {0, 4, 8, 16})
            for (ReconMethod other : {ReconMethod::Lorc, ReconMethod::Lqer})
                QVERIFY(lab.at(ReconMethod::QeraExact, k).outputRelErr <= lab.at(other, k).outputRelErr + 1e-6);
    }
    QuantParams p;
    p.quant = {"nf4", 4, 0};
    const QuantModelResult r = quantizeModel(*m, c, {ids}, p);
    QVERIFY(r.ppl > r.pplFp * 0.9 && r.kl > 0 && r.kl < 1.0);
}

void TestQuantModels::kvOnDefaultModel() {
    const auto trace = m_model->run(m_ids);
    double kivi2 = 0;
    for (KvMethod method : {KvMethod::Kivi, KvMethod::Hadamard, KvMethod::Oscar, KvMethod::ZipCache}) {
        KvQuantParams p;
        p.method = method;
        p.bits = 2;
        if (method == KvMethod::Oscar) p.sink = 4, p.residual = 32;
        const AttnQuantResult r = analyseKvQuant(*trace, p);
        QCOMPARE(r.heads.size(), size_t(6 * 8));
        QCOMPARE(r.tokens.size(), size_t(6));
        double mean = 0;
        for (const HeadError& e : r.heads) {
            QVERIFY(std::isfinite(e.scoreRelErr) && e.klMean >= -1e-9 && e.outRelErr > 0);
            mean += e.outRelErr / double(r.heads.size());
        }
        for (const TokenErrors& t : r.tokens) {
            QCOMPARE(t.keyShare.size(), size_t(256));
            double s = 0;
            for (float v : t.keyShare) s += v;
            QVERIFY(std::fabs(s - 1) < 1e-4);  // shares of the layer's squared score error
        }
        if (method == KvMethod::Kivi) {
            kivi2 = mean;
            QVERIFY(std::fabs(r.bitsK - kvEffectiveBits(256, 0, 2, 16, 32)) < 1e-12);  // 256 = 2·128: no residual
            p.bits = 4;
            double mean4 = 0;
            for (const HeadError& e : analyseKvQuant(*trace, p).heads) mean4 += e.outRelErr / double(r.heads.size());
            QVERIFY(mean4 < 0.5 * kivi2);
        }
        qInfo("%s 2-bit: mean output error %.4f, bits K %.3f V %.3f", kvMethodName(method), mean, r.bitsK, r.bitsV);
    }
}

void TestQuantModels::scoresOnDefaultModel() {
    const auto trace = m_model->run(m_ids);
    ScoreQuantParams p;
    auto meanErr = [&](const ScoreQuantParams& q) {
        double s = 0;
        const AttnQuantResult r = analyseScoreQuant(*trace, q);
        for (const HeadError& e : r.heads) s += e.scoreRelErr / double(r.heads.size());
        return s;
    };
    const double int8 = meanErr(p);
    p.bits = 4;
    const double int4 = meanErr(p);
    QVERIFY(int8 < int4);
    p.smoothK = false;
    QVERIFY(meanErr(p) > int4);  // K smoothing helps INT4
    qInfo("scores: INT8 %.5f, INT4 %.5f (per-thread groups, K smoothed)", int8, int4);
    p.fp8PV = true;
    QCOMPARE(analyseScoreQuant(*trace, p).fp8Applied, fp8Supported());
}

QTEST_APPLESS_MAIN(TestQuantModels)
#include "tst_quant_models.moc"
