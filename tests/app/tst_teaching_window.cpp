// Teaching mode (the presentation view) over the real main window on stories260K: it pages
// through the figures that have data with the keys, in large type, light text on a dark
// window, a long prompt reduced to its end, and Next generates one token and redraws.
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <qcustomplot.h>

#include "app_window_support.h"
#include "main_window.h"
#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "screenshot_gate.h"
#include "teaching_window.h"
#include "token_strip.h"

using namespace attnscope;
using attnscope::app::MainWindow;
using attnscope::app::TeachingWindow;

class TestTeachingWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        APPTEST_REQUIRE_STORIES();
    }

    void pagesLargeTypeAndSteps() {
        // Long enough that the prompt line must be shortened.
        QString prompt;
        while (prompt.size() < 600) prompt += QStringLiteral("Once upon a time, there was a little girl named Lily. ");
        prompt += QStringLiteral("The end");
        MainWindow w(/*interactive=*/false);
        w.resize(1200, 800);
        w.setPromptText(prompt);
        auto* gate = new app::ScreenshotGate(&w);
        QSignalSpy opened(gate, &app::ScreenshotGate::opened);
        w.show();
        w.openModel(apptest::storiesRequest());
        QVERIFY(opened.wait(120000));

        auto* t = new TeachingWindow(&w);  // deletes itself on close
        t->show();
        QVERIFY(QTest::qWaitForWindowExposed(t));
        t->refresh();
        QVERIFY2(t->pages().size() >= 2, qPrintable(t->pages().join(',')));
        QCOMPARE(t->pages().first(), QStringLiteral("attention-map"));
        QVERIFY(t->figure());

        // Paging: Right/Page Down forward, Left/Page Up back, wrapping at both ends.
        const int n = int(t->pages().size());
        QTest::keyClick(t, Qt::Key_Right);
        QCOMPARE(t->page(), 1);
        QTest::keyClick(t, Qt::Key_PageUp);
        QCOMPARE(t->page(), 0);
        QTest::keyClick(t, Qt::Key_Left);
        QCOMPARE(t->page(), n - 1);
        QTest::keyClick(t, Qt::Key_PageDown);
        QCOMPARE(t->page(), 0);

        // Readable from the back of a room: every text at least 16 pt, light on dark.
        for (QLabel* label : t->findChildren<QLabel*>())
            if (!label->text().isEmpty()) QVERIFY2(label->font().pointSizeF() >= 16, qPrintable(label->text().left(40)));
        for (QPushButton* b : t->findChildren<QPushButton*>()) QVERIFY(b->font().pointSizeF() >= 16);
        const QPalette pal = t->palette();
        QVERIFY(pal.color(QPalette::WindowText).lightness() - pal.color(QPalette::Window).lightness() > 200);
        // The prompt line: the prompt's end, shortened with an ellipsis.
        QLabel* promptLine = nullptr;
        for (QLabel* label : t->findChildren<QLabel*>())
            if (label->text().endsWith(QStringLiteral("The end"))) promptLine = label;
        QVERIFY(promptLine);
        QVERIFY(promptLine->text().startsWith(QChar(0x2026)));
        QVERIFY(promptLine->text().size() < prompt.size() / 2);

        // Next token: one more token in the prompt, and the figures redraw with it.
        const int before = w.attentionPanel()->tokenStrip()->count();
        QSignalSpy stepped(t, &TeachingWindow::stepped);
        QTest::keyClick(t, Qt::Key_N);
        QVERIFY(stepped.wait(120000));
        QCOMPARE(stepped.first().first().toInt(), before + 1);
        QCOMPARE(w.attentionPanel()->tokenStrip()->count(), before + 1);
        t->close();
    }
};

QTEST_MAIN(TestTeachingWindow)
#include "tst_teaching_window.moc"
