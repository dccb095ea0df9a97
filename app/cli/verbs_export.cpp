// export: publication figures from a computed (or saved) session, headless, with the same
// panel table and rendering code as the GUI (app/gui/panel_table.h). Built only
// when Qt and QCustomPlot are found; otherwise the verb says so.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "attnscope/error.h"
#include "cli_common.h"
#include "session_compute.h"

#ifdef ATTNSCOPE_CLI_WIDGETS
#include <QApplication>

#include "panel_table.h"
#include "plot/figure_style.h"
#include "session/panel_registry.h"
#endif

namespace attnscope::app {

#ifndef ATTNSCOPE_CLI_WIDGETS
int verbExport(const std::vector<std::string>&) {
    fail(ErrorKind::Unsupported, "export is unavailable: this attnscope-cli was built without Qt 6 and QCustomPlot "
                                 "(use 'session --out F.attnscope' and export from the GUI or a Qt build)");
}
#else
namespace {

using widgets::FigureOptions;

std::map<QString, QString> parseOpts(const std::string& s) {
    std::map<QString, QString> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            fail(ErrorKind::BadInput, "--opt expects key=value[,key=value], got '" + item + "'");
        out[QString::fromStdString(item.substr(0, eq))] = QString::fromStdString(item.substr(eq + 1));
    }
    return out;
}

// QApplication without a display: offscreen unless the caller chose a platform.
std::unique_ptr<QApplication> headlessApp() {
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    static int argc = 1;
    static char name[] = "attnscope-cli";
    static char* argv[] = {name, nullptr};
    return std::make_unique<QApplication>(argc, argv);
}

void listFigures() {
    for (const widgets::FigureSpec& f : panelRegistry().figures())
        std::printf("%-22s %-10s %s\n", qPrintable(f.name), qPrintable(f.panel), qPrintable(f.description));
}

}  // namespace

int verbExport(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    for (const std::string& o : sessionOptions()) valued.insert(o);
    valued.insert({"--figure", "--out", "--out-dir", "--formats", "--session", "--width", "--height", "--dpi", "--style", "--opt"});
    auto flags = kModelFlags;
    flags.insert({"--list-figures", "--all"});
    const CliArgs a(argv, valued, flags);
    auto app = headlessApp();
    const widgets::PanelRegistry& registry = panelRegistry();
    if (a.has("--list-figures")) {
        listFigures();
        return 0;
    }
    QStringList names;
    if (a.has("--all")) names = registry.figureNames();
    else if (a.has("--figure")) names << QString::fromStdString(a.str("--figure"));
    else fail(ErrorKind::BadInput, "export needs --figure NAME (or --all, or --list-figures)");
    for (const QString& n : names)
        if (!registry.figure(n))
            fail(ErrorKind::BadInput, "unknown figure '" + n.toStdString() + "' (see --list-figures)");
    if (a.has("--all") ? !a.has("--out-dir") : !a.has("--out"))
        fail(ErrorKind::BadInput, a.has("--all") ? "--all needs --out-dir DIR" : "export needs --out FILE.png|svg|pdf|csv");

    FigureOptions o;
    o.layer = a.integer("--layer", -1);
    o.head = a.integer("--head", -2);
    o.token = a.integer64("--token", -1);
    o.dpi = a.integer("--dpi", 150);
    if (o.dpi < 36 || o.dpi > 1200) fail(ErrorKind::BadInput, "--dpi must be in [36, 1200]");
    const int w = a.integer("--width", 0), h = a.integer("--height", 0);
    if (w < 0 || h < 0 || w > 8000 || h > 8000) fail(ErrorKind::BadInput, "--width/--height must be in [1, 8000]");
    if (w && h) o.size = QSize(w, h);
    o.style = widgets::figureStyleFromName(QString::fromStdString(a.str("--style", "light")));
    if (a.has("--opt")) o.extra = parseOpts(a.str("--opt"));

    Session session;
    if (a.has("--session")) {
        session = loadSession(a.str("--session"));
    } else {
        // Compute only the panels the figures need, unless --panels says otherwise.
        std::vector<std::string> args = argv;
        if (!a.has("--panels")) {
            std::set<std::string> panels;
            for (const QString& n : names) panels.insert(registry.figure(n)->panel.toStdString());
            std::string list;
            for (const std::string& p : panels) list += (list.empty() ? "" : ",") + p;
            args.insert(args.end(), {"--panels", list});
        }
        // Session options only (drop export's own), then compute.
        auto sessionValued = kModelOptions;
        for (const std::string& o : sessionOptions()) sessionValued.insert(o);
        std::vector<std::string> kept;
        for (size_t i = 0; i < args.size(); ++i) {
            if (flags.count(args[i])) {
                if (kModelFlags.count(args[i])) kept.push_back(args[i]);
                continue;
            }
            if (sessionValued.count(args[i]) && i + 1 < args.size()) kept.insert(kept.end(), {args[i], args[i + 1]});
            ++i;
        }
        session = computeSession(CliArgs(kept, sessionValued, kModelFlags));
    }
    if (a.has("--all")) {
        const std::filesystem::path dir = a.str("--out-dir");
        std::filesystem::create_directories(dir);
        std::stringstream ss(a.str("--formats", "png"));
        std::vector<std::string> formats;
        for (std::string f; std::getline(ss, f, ',');) formats.push_back(f);
        int written = 0;
        for (const QString& n : names) {
            if (!session.panels.count(registry.figure(n)->panel.toStdString())) continue;  // panel not in the session
            for (const std::string& f : formats) {
                const std::string path = (dir / (n.toStdString() + "." + f)).string();
                widgets::exportFigure(registry, session, n, o, QString::fromStdString(path));
                std::printf("wrote %s\n", path.c_str());
                ++written;
            }
        }
        if (!written) fail(ErrorKind::BadInput, "the session holds none of the registered panels");
        return 0;
    }
    widgets::exportFigure(registry, session, names.front(), o, QString::fromStdString(a.str("--out")));
    std::printf("wrote %s\n", a.str("--out").c_str());
    return 0;
}
#endif

}  // namespace attnscope::app
