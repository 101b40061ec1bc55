/* mentorlink UI — the colours, and the WCAG 2.x contrast they are chosen
 * for. Every text colour is used only on the backgrounds listed with it in
 * ml_ui_palette_pairs, and each such pair has a contrast ratio of at least
 * 4.5:1 (WCAG AA for normal text; tests/unit/test_ui_palette.c checks it).
 * No state is shown by colour alone: every mark also has a shape and a word.
 */
#ifndef ML_UI_PALETTE_H
#define ML_UI_PALETTE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ml_rgb {
  uint8_t r, g, b;
} ml_rgb;

/* Backgrounds */
#define ML_COL_BG ((ml_rgb){0x12, 0x16, 0x1c})        /* window */
#define ML_COL_TILE ((ml_rgb){0x22, 0x29, 0x33})      /* tile, avatar card */
#define ML_COL_PANEL ((ml_rgb){0x1b, 0x21, 0x2a})     /* chat panel, controls bar */
#define ML_COL_BUTTON ((ml_rgb){0x2e, 0x37, 0x44})    /* a control button */
#define ML_COL_BUTTON_ON ((ml_rgb){0xe8, 0xec, 0xf1}) /* a button in its "off/muted" state */
#define ML_COL_INPUT ((ml_rgb){0x0b, 0x0e, 0x12})     /* text input */
#define ML_COL_LABEL_BG ((ml_rgb){0x00, 0x00, 0x00})  /* name label over video */
#define ML_COL_INFO_BG ((ml_rgb){0x1d, 0x3b, 0x66})   /* info banner */
#define ML_COL_WARN_BG ((ml_rgb){0xff, 0xd2, 0x4d})   /* warning banner */
#define ML_COL_ALERT_BG ((ml_rgb){0x8b, 0x10, 0x10})  /* identity changed, leave button */
#define ML_COL_DIALOG ((ml_rgb){0x26, 0x2e, 0x3a})    /* dialogs */
/* Foregrounds */
#define ML_COL_TEXT ((ml_rgb){0xf2, 0xf4, 0xf7})       /* main text */
#define ML_COL_MUTED_TEXT ((ml_rgb){0xb4, 0xbe, 0xcb}) /* times, hints */
#define ML_COL_DARK_TEXT ((ml_rgb){0x10, 0x12, 0x16})  /* on light backgrounds */
#define ML_COL_ACCENT ((ml_rgb){0x7c, 0xc4, 0xff})     /* focus ring, active speaker, links */
#define ML_COL_OK ((ml_rgb){0x6f, 0xdb, 0x8f})         /* verified, good quality */
#define ML_COL_BAD ((ml_rgb){0xff, 0x8a, 0x80})        /* poor quality, muted mark */

typedef struct ml_ui_palette_pair {
  const char *what;
  ml_rgb fg, bg;
} ml_ui_palette_pair;

/* Every text-on-background combination the renderer uses. */
const ml_ui_palette_pair *ml_ui_palette_pairs(size_t *n);

/* WCAG 2.x relative luminance (0..1) and contrast ratio (1..21). */
double ml_ui_luminance(ml_rgb c);
double ml_ui_contrast(ml_rgb a, ml_rgb b);

#endif /* ML_UI_PALETTE_H */
