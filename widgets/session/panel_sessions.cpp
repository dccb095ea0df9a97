#include "session/panel_sessions.h"

#include <QWidget>
#include <qcustomplot.h>

#include "attnscope/error.h"

namespace attnscope::widgets {

attnscope::TokenStrip sessionTokens(const Session& session) {
    attnscope::TokenStrip strip;
    strip.ids = session.tokenIds;
    strip.pieces = session.tokenPieces;
    if (strip.pieces.size() != strip.ids.size()) {
        strip.pieces.clear();
        for (int32_t id : strip.ids) strip.pieces.push_back("#" + std::to_string(id));
    }
    return strip;
}

const SessionSection& requireSection(const Session& session, const char* panel, const char* title) {
    auto it = session.panels.find(panel);
    if (it == session.panels.end())
        fail(ErrorKind::BadInput, std::string("the session holds no ") + title + " results (section '" + panel + "')");
    return it->second;
}

std::unique_ptr<QCustomPlot> detachPlot(QWidget* panel, QCustomPlot* plot) {
    panel->hide();
    plot->setParent(nullptr);
    panel->setParent(plot);
    panel->hide();
    return std::unique_ptr<QCustomPlot>(plot);
}

void addFigureTitle(QCustomPlot* plot, const QString& title) {
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title));
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
}

void addPanelFigures(PanelRegistry& registry, const char* panel, std::initializer_list<PanelFigure> figures,
                     const PanelFigureRender& render) {
    for (const PanelFigure& f : figures)
        registry.addFigure({QString::fromLatin1(f.name), QString::fromLatin1(panel), QObject::tr(f.description), f.size,
                            [render, which = f.which](const Session& s, const FigureOptions& o) { return render(s, o, which); },
                            f.note});
}

}  // namespace attnscope::widgets
