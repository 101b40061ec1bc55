/* mentorlink UI — palette (see palette.h). */
#include "palette.h"

#include <math.h>

static const ml_ui_palette_pair pairs[] = {
    {"text on window", ML_COL_TEXT, ML_COL_BG},
    {"text on tile", ML_COL_TEXT, ML_COL_TILE},
    {"text on panel", ML_COL_TEXT, ML_COL_PANEL},
    {"text on button", ML_COL_TEXT, ML_COL_BUTTON},
    {"dark text on pressed button", ML_COL_DARK_TEXT, ML_COL_BUTTON_ON},
    {"text on input", ML_COL_TEXT, ML_COL_INPUT},
    {"hint on input", ML_COL_MUTED_TEXT, ML_COL_INPUT},
    {"time on panel", ML_COL_MUTED_TEXT, ML_COL_PANEL},
    {"name label", ML_COL_TEXT, ML_COL_LABEL_BG},
    {"ok mark on label", ML_COL_OK, ML_COL_LABEL_BG},
    {"bad mark on label", ML_COL_BAD, ML_COL_LABEL_BG},
    {"accent on label", ML_COL_ACCENT, ML_COL_LABEL_BG},
    {"ok mark on panel", ML_COL_OK, ML_COL_PANEL},
    {"info banner", ML_COL_TEXT, ML_COL_INFO_BG},
    {"warning banner", ML_COL_DARK_TEXT, ML_COL_WARN_BG},
    {"alert", ML_COL_TEXT, ML_COL_ALERT_BG},
    {"text on dialog", ML_COL_TEXT, ML_COL_DIALOG},
    {"hint on dialog", ML_COL_MUTED_TEXT, ML_COL_DIALOG},
    {"accent on dialog", ML_COL_ACCENT, ML_COL_DIALOG},
    {"ok on dialog", ML_COL_OK, ML_COL_DIALOG},
    {"accent on panel", ML_COL_ACCENT, ML_COL_PANEL},
    {"bad mark on button", ML_COL_BAD, ML_COL_BUTTON},
    {"caption on tile", ML_COL_MUTED_TEXT, ML_COL_TILE},
    {"hint on label", ML_COL_MUTED_TEXT, ML_COL_LABEL_BG},
    {"caption on avatar", ML_COL_TEXT, ML_COL_BUTTON},
};

const ml_ui_palette_pair *ml_ui_palette_pairs(size_t *n) {
  *n = sizeof pairs / sizeof pairs[0];
  return pairs;
}

static double channel(uint8_t v) {
  double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

double ml_ui_luminance(ml_rgb c) {
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

double ml_ui_contrast(ml_rgb a, ml_rgb b) {
  double la = ml_ui_luminance(a), lb = ml_ui_luminance(b);
  return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}
