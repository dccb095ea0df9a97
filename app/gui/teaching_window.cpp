#include "teaching_window.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "inspector_worker.h"
#include "main_window.h"
#include "plot/figure_style.h"
#include "panel_table.h"
#include "session/panel_registry.h"
#include "session_controller.h"

namespace attnscope::app {
namespace {

constexpr char kStepTag[] = "teach-step";
// The figures of teaching mode, in paging order (those without data are skipped).
const QStringList kPageOrder = {QStringLiteral("attention-map"), QStringLiteral("sink-map"), QStringLiteral("sink-layers"),
                                QStringLiteral("kv-keep-map"), QStringLiteral("head-grid"), QStringLiteral("weibull-k-map")};

// The prompt line shows the text's end (where step-through generation appends), at most
// this many characters, so a long prompt never squeezes the figure.
constexpr int kPromptTailChars = 240;

QFont big(double pt, bool bold = false) {
    QFont f = QApplication::font();
    f.setPointSizeF(pt);
    f.setBold(bold);
    return f;
}

}  // namespace

TeachingWindow::TeachingWindow(MainWindow* window)
    : QWidget(nullptr, Qt::Window), m_window(window), m_worker(window->worker()) {
    setWindowTitle(tr("AttnScope \u2014 Teaching"));
    setAttribute(Qt::WA_DeleteOnClose);
    // High contrast: black on white for the figure, white on near-black around it.
    QPalette pal = palette();
    pal.setColor(QPalette::Window, QColor(0x10, 0x10, 0x10));
    pal.setColor(QPalette::WindowText, Qt::white);
    pal.setColor(QPalette::Button, QColor(0x30, 0x30, 0x30));
    pal.setColor(QPalette::ButtonText, Qt::white);
    setPalette(pal);
    setAutoFillBackground(true);

    m_title = new QLabel(this);
    m_title->setFont(big(26, true));
    auto* prev = new QPushButton(tr("\u25c0"), this);
    auto* next = new QPushButton(tr("\u25b6"), this);
    auto* stepButton = new QPushButton(tr("Next token (N)"), this);
    m_play = new QPushButton(tr("Play (Space)"), this);
    auto* exit = new QPushButton(tr("Exit (Esc)"), this);
    for (QPushButton* b : {prev, next, stepButton, m_play, exit}) {
        b->setFont(big(16));
        b->setFocusPolicy(Qt::NoFocus);  // keys belong to the window
    }
    prev->setToolTip(tr("Previous figure (Left, Page Up)"));
    next->setToolTip(tr("Next figure (Right, Page Down)"));
    stepButton->setToolTip(tr("Generate one token greedily, re-run the prompt, redraw"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_title, 1);
    for (QPushButton* b : {prev, next, stepButton, m_play, exit}) top->addWidget(b);

    m_figureBox = new QVBoxLayout;
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setFont(big(17));
    m_note->setTextFormat(Qt::RichText);
    m_note->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_note->setMinimumWidth(380);
    m_note->setMaximumWidth(520);
    m_note->setContentsMargins(16, 8, 8, 8);
    auto* middle = new QHBoxLayout;
    middle->addLayout(m_figureBox, 1);
    middle->addWidget(m_note);

    m_prompt = new QLabel(this);
    m_prompt->setWordWrap(true);
    m_prompt->setFont(big(18));
    m_prompt->setTextFormat(Qt::PlainText);
    m_prompt->setMaximumHeight(QFontMetrics(m_prompt->font()).lineSpacing() * 3 + 4);
    m_prompt->setAlignment(Qt::AlignBottom | Qt::AlignLeft);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 16, 24, 16);
    layout->addLayout(top);
    layout->addLayout(middle, 1);
    layout->addWidget(m_prompt);

    m_refresh = new QTimer(this);
    m_refresh->setSingleShot(true);
    m_refresh->setInterval(150);  // results arrive panel by panel: redraw once they settle
    connect(m_refresh, &QTimer::timeout, this, &TeachingWindow::refresh);
    connect(prev, &QPushButton::clicked, this, [this] { setPage(m_page - 1); });
    connect(next, &QPushButton::clicked, this, [this] { setPage(m_page + 1); });
    connect(stepButton, &QPushButton::clicked, this, &TeachingWindow::step);
    connect(m_play, &QPushButton::clicked, this, [this] { setPlaying(!m_playing); });
    connect(exit, &QPushButton::clicked, this, &QWidget::close);
    connect(window, &MainWindow::viewShown, this, &TeachingWindow::scheduleRefresh);
    connect(window, &MainWindow::panelShown, this, &TeachingWindow::scheduleRefresh);
    connect(window, &MainWindow::runFailed, this, [this] { setPlaying(false); });
    connect(window, &QObject::destroyed, this, [this] {
        m_refresh->stop();
        hide();
        deleteLater();  // nothing left to present
    });
    resize(1600, 1000);
    refresh();
}

TeachingWindow::~TeachingWindow() {
    if (m_worker) m_worker->cancel(QString::fromLatin1(kStepTag));
}

void TeachingWindow::scheduleRefresh() { m_refresh->start(); }

void TeachingWindow::setPage(int index) {
    if (m_pages.isEmpty()) return;
    m_page = (index % int(m_pages.size()) + int(m_pages.size())) % int(m_pages.size());
    refresh();
}

void TeachingWindow::refresh() {
    const Session session = m_window->sessions()->capture();
    const auto& registry = panelRegistry();
    const QString current = m_pages.value(m_page);
    m_pages.clear();
    for (const QString& name : kPageOrder)
        if (const widgets::FigureSpec* f = registry.figure(name); f && session.panels.count(f->panel.toStdString()))
            m_pages << name;
    m_page = std::max<int>(0, int(m_pages.indexOf(current)));
    const QString prompt = QString::fromStdString(session.prompt).simplified();
    m_prompt->setText(prompt.size() <= kPromptTailChars ? prompt : QChar(0x2026) + prompt.right(kPromptTailChars));
    m_prompt->setToolTip(QString::fromStdString(session.prompt));
    if (m_pages.isEmpty()) {
        m_title->setText(tr("Run a prompt in the main window first"));
        m_note->clear();
        m_figure.reset();
        return;
    }
    const widgets::FigureSpec* spec = registry.figure(m_pages[m_page]);
    m_title->setText(tr("%1 / %2  %3").arg(m_page + 1).arg(m_pages.size()).arg(spec->description.section(QLatin1Char('('), 0, 0).trimmed()));
    m_note->setText(spec->note + tr("<br><br><span style='color:#aaaaaa'>%1 tokens \u00b7 \u2190 \u2192 figures \u00b7 N next token "
                                    "\u00b7 Space play</span>").arg(session.tokenIds.size()));
    widgets::FigureOptions o;
    o.style = widgets::FigureStyle::Presentation;
    try {
        std::unique_ptr<QCustomPlot> plot = spec->render(session, o);
        widgets::applyFigureStyle(plot.get(), widgets::FigureStyle::Presentation);
        plot->setToolTip(spec->note);
        m_figureBox->addWidget(plot.get());
        m_figure = std::move(plot);  // the previous figure goes (and leaves the layout)
    } catch (const std::exception& e) {
        m_note->setText(QString::fromUtf8(e.what()));
    }
    if (m_stepPending) {
        m_stepPending = false;
        emit stepped(int(session.tokenIds.size()));
        if (m_playing) QTimer::singleShot(600, this, &TeachingWindow::step);
    }
}

void TeachingWindow::step() {
    if (!m_window->modelRequest()) {
        m_note->setText(tr("Step-through generation needs the model: open it in the main window (File \u25b8 Open Model)."));
        setPlaying(false);
        return;
    }
    const std::string prompt = m_window->promptText().toStdString();
    m_window->worker()->post(QString::fromLatin1(kStepTag), this, [this, prompt](JobContext& ctx) -> InspectorWorker::GuiApply {
        Inspector& inspector = ctx.inspector();
        if (!inspector.hasModel() || !inspector.model().tokenizer())
            fail(ErrorKind::BadInput, "Open a model with a tokenizer first");
        std::vector<int32_t> ids = inspector.tokenize(prompt, /*addSpecial=*/true);
        const Generation g = inspector.generate(ids, 1, /*stopAtEos=*/true, {}, ctx.job());
        const bool eos = g.tokens.empty() || g.stoppedAtEos;
        ids.insert(ids.end(), g.tokens.begin(), g.tokens.end());
        // Decode the whole sequence: a lone piece would lose its leading space.
        const QString text = QString::fromStdString(inspector.decode(ids));
        return [this, text, eos] {
            if (eos) {
                setPlaying(false);
                m_note->setText(tr("The model ended the text (end of sequence)."));
                return;
            }
            m_stepPending = true;
            m_window->setPromptText(text);
            m_window->runPrompt();
        };
    });
}

void TeachingWindow::setPlaying(bool play) {
    m_playing = play;
    m_play->setText(play ? tr("Pause (Space)") : tr("Play (Space)"));
    if (play && !m_stepPending) step();
}

void TeachingWindow::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
    case Qt::Key_Left:
    case Qt::Key_PageUp: setPage(m_page - 1); break;
    case Qt::Key_Right:
    case Qt::Key_PageDown: setPage(m_page + 1); break;
    case Qt::Key_N: step(); break;
    case Qt::Key_Space: setPlaying(!m_playing); break;
    case Qt::Key_Escape: close(); break;
    case Qt::Key_F11: isFullScreen() ? showNormal() : showFullScreen(); break;
    default: QWidget::keyPressEvent(event);
    }
}

}  // namespace attnscope::app
