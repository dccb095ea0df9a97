// The A^3 panel's "Apply to model" and "Restore" through the real main window (worker, dock,
// panel), offscreen: applying makes the reduced weights the model's and runs the prompt again,
// so the panels show the reduced model; restoring gives the original weights back and runs
// again. The numbers themselves are checked in tst_a3 (applyAndRestore).
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <algorithm>

#include "app_window_support.h"
#include "main_window.h"
#include "panels/a3_panel.h"

using attnscope::app::MainWindow;

namespace {

QPushButton* button(QWidget* parent, const QString& text) {
    for (QPushButton* b : parent->findChildren<QPushButton*>())
        if (b->text() == text) return b;
    return nullptr;
}

}  // namespace

class TestA3Apply : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void applyThenRestore() {
        const QString dir = apptest::defaultModelDir();
        if (!QFileInfo::exists(dir + "/config.json")) QSKIP("built-in model absent");
        MainWindow w(false);
        QSignalSpy shown(&w, &MainWindow::panelShown);
        apptest::openBuiltIn(w,
                             QStringLiteral("It was the best of times, it was the worst of times, it was the age of "
                                            "wisdom, it was the age of foolishness, it was the epoch of belief."),
                             QStringLiteral("a3"));
        QTRY_VERIFY_WITH_TIMEOUT(apptest::timesShown(shown, QStringLiteral("a3")) >= 1, 300000);
        auto* panel = w.findChild<attnscope::widgets::A3Panel*>();
        QVERIFY(panel && panel->hasResult());
        QPushButton* apply = button(panel, QStringLiteral("Apply to model"));
        QPushButton* restore = button(panel, QStringLiteral("Restore"));
        QVERIFY(apply && restore);
        QVERIFY(!restore->isEnabled());

        apply->click();
        QTRY_VERIFY_WITH_TIMEOUT(restore->isEnabled(), 120000);  // applied
        bool named = false;
        for (QLabel* l : panel->findChildren<QLabel*>()) named |= l->text().contains(QLatin1String("Applied:"));
        QVERIFY(named);
        // The prompt runs again on the reduced weights, and the lab sweeps the reduced model.
        QTRY_VERIFY_WITH_TIMEOUT(apptest::timesShown(shown, QStringLiteral("a3")) >= 2, 300000);

        restore->click();
        QTRY_VERIFY_WITH_TIMEOUT(!restore->isEnabled(), 120000);
        QTRY_VERIFY_WITH_TIMEOUT(apptest::timesShown(shown, QStringLiteral("a3")) >= 3, 300000);
    }
};

QTEST_MAIN(TestA3Apply)
#include "tst_a3_apply.moc"
