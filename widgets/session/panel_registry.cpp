#include "session/panel_registry.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QResizeEvent>
#include <QTextStream>
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "plot/figure_style.h"
#include "plot/plot_menu.h"

namespace attnscope::widgets {

QString FigureOptions::option(const QString& key, const QString& fallback) const {
    auto it = extra.find(key);
    return it == extra.end() ? fallback : it->second;
}

namespace {

// Replaces the entry with the same key, or appends.
template <class Spec, class Key>
void upsert(std::vector<Spec>& list, Spec spec, Key Spec::*key) {
    for (Spec& s : list)
        if (s.*key == spec.*key) {
            s = std::move(spec);
            return;
        }
    list.push_back(std::move(spec));
}

}  // namespace

void PanelRegistry::addFigure(FigureSpec spec) { upsert(m_figures, std::move(spec), &FigureSpec::name); }

void PanelRegistry::addSession(PanelSessionSpec spec) { upsert(m_sessions, std::move(spec), &PanelSessionSpec::panel); }

const FigureSpec* PanelRegistry::figure(const QString& name) const {
    for (const FigureSpec& f : m_figures)
        if (f.name == name) return &f;
    return nullptr;
}

const PanelSessionSpec* PanelRegistry::session(const QString& panel) const {
    for (const PanelSessionSpec& s : m_sessions)
        if (s.panel == panel) return &s;
    return nullptr;
}

QStringList PanelRegistry::figureNames() const {
    QStringList out;
    for (const FigureSpec& f : m_figures) out << f.name;
    return out;
}

QStringList PanelRegistry::figureNames(const QString& panel) const {
    QStringList out;
    for (const FigureSpec& f : m_figures)
        if (f.panel == panel) out << f.name;
    return out;
}

QStringList PanelRegistry::sessionPanels() const {
    QStringList out;
    for (const PanelSessionSpec& s : m_sessions) out << s.panel;
    return out;
}

void exportFigure(const PanelRegistry& registry, const Session& session, const QString& name,
                  const FigureOptions& options, const QString& path) {
    const FigureSpec* spec = registry.figure(name);
    if (!spec)
        fail(ErrorKind::BadInput, "unknown figure '" + name.toStdString() + "' (known: " +
                                      registry.figureNames().join(QStringLiteral(", ")).toStdString() + ")");
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (!QStringList{"png", "svg", "pdf", "csv"}.contains(suffix))
        fail(ErrorKind::BadInput, path.toStdString() + ": the file name must end in .png, .svg, .pdf or .csv");
    std::unique_ptr<QCustomPlot> plot = spec->render(session, options);
    const QSize size = options.size.isValid() && !options.size.isEmpty() ? options.size : spec->defaultSize;
    plot->resize(size);
    applyFigureStyle(plot.get(), options.style);
    plot->replot();  // lays the axes out at the exported size and style
    // A hidden widget gets its resize event only when shown: deliver it now, so plots that
    // adapt to their size (MatrixPlot's tick density) do it for this layout.
    QResizeEvent resized(size, size);
    QCoreApplication::sendEvent(plot.get(), &resized);
    plot->replot();
    if (suffix == QLatin1String("csv")) {
        const PlotMenu* menu = PlotMenu::of(plot.get());
        const QString csv = menu ? menu->csv() : plotDataCsv(plot.get());
        QSaveFile out(path);
        if (!out.open(QIODevice::WriteOnly) || out.write(csv.toUtf8()) < 0 || !out.commit())
            fail(ErrorKind::BadInput, path.toStdString() + ": cannot write");
        return;
    }
    // QCustomPlot writes in place; a temp file + rename keeps the previous figure intact.
    const QString tmp = path + QStringLiteral(".tmp-export.") + suffix;
    const bool ok = exportPlot(plot.get(), tmp, options.dpi, size);
    if (!ok || !QFileInfo(tmp).size() || !(QFile::remove(path) || !QFile::exists(path)) || !QFile::rename(tmp, path)) {
        QFile::remove(tmp);
        fail(ErrorKind::BadInput, path.toStdString() + ": cannot write the figure");
    }
}

}  // namespace attnscope::widgets
