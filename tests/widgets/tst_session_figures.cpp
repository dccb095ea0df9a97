// The panel registry: every figure exports to PNG/SVG/PDF/CSV offscreen and parses back
// with the size and page count asked for; every panel's session section survives save ->
// restore -> save bit-exactly; missing or corrupt sections give clear errors. The data are
// synthetic sections built with the core codecs (no model, no torch).
#include <QBuffer>
#include <QImage>
#include <QRegularExpression>
#include <QXmlStreamReader>
#include <QtTest>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/attention_maps_panel.h"
#include "panels/head_grid_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "plot/figure_style.h"
#include "session/panel_registry.h"
#include "synthetic_session.h"

using namespace attnscope;
using namespace attnscope::widgets;
using sessiontest::syntheticSession;

namespace {

int pdfPageCount(const QByteArray& pdf) {
    // Page objects: "/Type /Page" not followed by "s" (that is the page tree).
    static const QRegularExpression re(QStringLiteral("/Type\\s*/Page(?!s)"));
    int n = 0;
    for (auto it = re.globalMatch(QString::fromLatin1(pdf)); it.hasNext(); it.next()) ++n;
    return n;
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool sameSection(const SessionSection& a, const SessionSection& b, QString* why) {
    if (a.params != b.params) {
        *why = QString::fromStdString("params differ: " + nlohmann::json::diff(a.params, b.params).dump());
        return false;
    }
    if (a.tensors.size() != b.tensors.size()) {
        *why = QStringLiteral("tensor count differs");
        return false;
    }
    for (const auto& [name, t] : a.tensors) {
        auto it = b.tensors.find(name);
        if (it == b.tensors.end() || it->second.type != t.type || it->second.shape != t.shape || it->second.bytes != t.bytes) {
            *why = QString::fromStdString("tensor " + name + " differs");
            return false;
        }
    }
    return true;
}

QString errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace

class TestSessionFigures : public QObject {
    Q_OBJECT
private slots:
    void registryListsBuiltinFigures();
    void everyFigureExports_data();
    void everyFigureExports();
    void printStyleChangesFonts();
    void sectionsRoundTripThroughPanels();
    void clearErrors();
};

void TestSessionFigures::registryListsBuiltinFigures() {
    const QStringList names = PanelRegistry::instance().figureNames();
    for (const char* n : {"attention-map", "head-grid", "sink-map", "sink-levels", "sink-layers", "weibull-k-map",
                          "weibull-k-layers", "weibull-probability"})
        QVERIFY2(names.contains(QLatin1String(n)), n);
    QCOMPARE(QStringList(names).removeDuplicates(), qsizetype(0));
    for (const char* p : {"attention", "heads", "sinks", "weibull"}) QVERIFY(PanelRegistry::instance().session(p));
}

void TestSessionFigures::everyFigureExports_data() {
    QTest::addColumn<QString>("figure");
    QTest::addColumn<QString>("format");
    for (const QString& f : PanelRegistry::instance().figureNames())
        for (const char* fmt : {"png", "svg", "pdf", "csv"})
            QTest::newRow(qPrintable(f + QLatin1Char('.') + QLatin1String(fmt))) << f << QString::fromLatin1(fmt);
}

void TestSessionFigures::everyFigureExports() {
    QFETCH(QString, figure);
    QFETCH(QString, format);
    static const Session session = syntheticSession();
    const FigureSpec* spec = PanelRegistry::instance().figure(figure);
    if (!session.panels.count(spec->panel.toStdString())) QSKIP("no synthetic data for this panel");
    QTemporaryDir dir;
    const QString path = dir.filePath(figure + QLatin1Char('.') + format);
    FigureOptions o;
    o.size = QSize(600, 400);
    o.dpi = 192;  // twice the logical size in pixels
    exportFigure(session, figure, o, path);
    const QByteArray bytes = readFile(path);
    QVERIFY2(!bytes.isEmpty(), qPrintable(path));
    if (format == QLatin1String("png")) {
        QImage img;
        QVERIFY(img.loadFromData(bytes, "PNG"));
        QCOMPARE(img.size(), QSize(1200, 800));
        QCOMPARE(qRound(img.dotsPerMeterX() * 0.0254), 192);
        // Not blank: a figure has ink on its white page.
        int dark = 0;
        for (int y = 0; y < img.height(); y += 4)
            for (int x = 0; x < img.width(); x += 4) dark += qGray(img.pixel(x, y)) < 128;
        QVERIFY2(dark > 50, qPrintable(QStringLiteral("%1 dark samples").arg(dark)));
    } else if (format == QLatin1String("svg")) {
        // Well-formed XML whose root <svg> has the figure's view box, with drawing in it.
        QXmlStreamReader xml(bytes);
        QString viewBox;
        int elements = 0;
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement) continue;
            ++elements;
            if (xml.name() == QLatin1String("svg")) viewBox = xml.attributes().value(QLatin1String("viewBox")).toString();
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QCOMPARE(viewBox, QStringLiteral("0 0 600 400"));
        QVERIFY(elements > 20);
    } else if (format == QLatin1String("pdf")) {
        QVERIFY(bytes.startsWith("%PDF-"));
        QCOMPARE(pdfPageCount(bytes), 1);
        // The MediaBox is the figure's size in points (QCustomPlot::savePdf: 1 px = 1 pt).
        static const QRegularExpression box(QStringLiteral("/MediaBox\\s*\\[\\s*0\\s+0\\s+([0-9.]+)\\s+([0-9.]+)"));
        const auto m = box.match(QString::fromLatin1(bytes));
        QVERIFY(m.hasMatch());
        QCOMPARE(qRound(m.captured(1).toDouble()), 600);
        QCOMPARE(qRound(m.captured(2).toDouble()), 400);
    } else {
        const QStringList lines = QString::fromUtf8(bytes).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(lines.size() >= 3, qPrintable(QString::fromUtf8(bytes.left(200))));
        QVERIFY(lines[0].contains(QLatin1Char(',')));
    }
}

void TestSessionFigures::printStyleChangesFonts() {
    const Session session = syntheticSession();
    FigureOptions o;
    o.style = FigureStyle::Print;
    auto plot = PanelRegistry::instance().figure(QStringLiteral("sink-layers"))->render(session, o);
    applyFigureStyle(plot.get(), FigureStyle::Print);
    const FigureStyleSpec spec = figureStyleSpec(FigureStyle::Print);
    QCOMPARE(plot->xAxis->tickLabelFont().pointSizeF(), spec.basePt);
    QCOMPARE(plot->xAxis->labelFont().pointSizeF(), spec.labelPt);
    QCOMPARE(plot->xAxis->labelFont().family(), spec.family);
    QCOMPARE(plot->xAxis->basePen().color(), QColor(Qt::black));
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->lineStyle() != QCPGraph::lsNone) QVERIFY(plot->graph(i)->pen().widthF() >= spec.lineWidth);
}

void TestSessionFigures::sectionsRoundTripThroughPanels() {
    // restore(section) then save() gives the section back, tensor bytes and parameters:
    // what the GUI saves is what it was given.
    const Session session = syntheticSession();
    const auto& registry = PanelRegistry::instance();
    std::vector<std::pair<const char*, QWidget*>> panels = {{"attention", new AttentionMapsPanel},
                                                            {"heads", new HeadGridPanel},
                                                            {"sinks", new SinksPanel},
                                                            {"weibull", new WeibullPanel}};
    for (auto& [id, panel] : panels) {
        const PanelSessionSpec* spec = registry.session(QString::fromLatin1(id));
        const SessionSection& stored = session.panels.at(id);
        spec->restore(panel, session, stored);
        SessionSection saved;
        QVERIFY2(spec->save(panel, saved), id);
        SessionSection expected = stored;
        if (std::string(id) == "attention") {  // the panel shows (and saves) the selected map only
            AttentionSection a = decodeAttention(stored);
            a.maps = {*a.find(a.layer, a.head)};
            a.nLayers = a.nHeads = 0;  // the app adds the model shape
            expected = encodeAttention(a);
            saved.params["layers"] = 0;
            saved.params["heads"] = 0;
        }
        QString why;
        QVERIFY2(sameSection(expected, saved, &why), qPrintable(QString::fromLatin1(id) + QStringLiteral(": ") + why));
        delete panel;
    }
}

void TestSessionFigures::clearErrors() {
    Session session = syntheticSession();
    FigureOptions o;
    QTemporaryDir dir;
    QString e = errorOf([&] { exportFigure(session, QStringLiteral("no-such-figure"), o, dir.filePath("x.png")); });
    QVERIFY2(e.contains("unknown figure") && e.contains("attention-map"), qPrintable(e));
    e = errorOf([&] { exportFigure(session, QStringLiteral("head-grid"), o, dir.filePath("x.bmp")); });
    QVERIFY2(e.contains(".png, .svg, .pdf or .csv"), qPrintable(e));
    o.layer = 3;
    o.head = 7;
    e = errorOf([&] { exportFigure(session, QStringLiteral("attention-map"), o, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no attention map for layer 3, head 7"), qPrintable(e));
    session.panels.erase("sinks");
    e = errorOf([&] { exportFigure(session, QStringLiteral("sink-map"), {}, dir.filePath("x.png")); });
    QVERIFY2(e.contains("no attention sink results"), qPrintable(e));
    // A section with a wrongly shaped tensor: validate refuses it before any panel changes.
    Session bad = syntheticSession();
    bad.panels["heads"].tensors["diagonal"] = SessionTensor::f32({2}, {1.f, 2.f});
    e = errorOf([&] { PanelRegistry::instance().session("heads")->validate(bad, bad.panels["heads"]); });
    QVERIFY2(e.contains("heads/diagonal") && e.contains("shape"), qPrintable(e));
    bad = syntheticSession();
    bad.tokenIds.pop_back();
    bad.tokenPieces.pop_back();
    e = errorOf([&] { PanelRegistry::instance().session("sinks")->validate(bad, bad.panels["sinks"]); });
    QVERIFY2(e.contains("the prompt has"), qPrintable(e));
    QVERIFY(!QFile::exists(dir.filePath("x.png")));
}

QTEST_MAIN(TestSessionFigures)
#include "tst_session_figures.moc"
