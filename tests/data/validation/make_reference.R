# Reference values for rg.survival.validate (bootstrap optimism correction, Harrell) and its
# calibration curve (Austin, Harrell & van Klaveren 2020, Stat Med 39:2714-2742).
# R 4.2.2, survival 3.5-3, rms 6.5-0 (Debian packages). Run from this folder: Rscript make_reference.R
suppressPackageStartupMessages({library(survival); library(rms)})
rossi <- read.csv("../survival/rossi.csv")
out <- list()
add <- function(analysis, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(analysis = analysis, quantity = quantity, term = term,
                                        value = formatC(value, digits = 15, format = "g"))
}
t0 <- 52
fit <- coxph(Surv(week, arrest) ~ fin + age + prio, data = rossi, ties = "efron", x = TRUE)
lp <- predict(fit, type = "lp", reference = "zero")
add("apparent", "c_index", "", concordance(fit)$concordance)
# calibration-in-the-large and slope (Crowson, Atkinson & Therneau 2016, SMMR 25:1692): Poisson
# models of the events with the model's expected cumulative hazard as offset
expct <- predict(fit, type = "expected")
g1 <- glm(arrest ~ offset(log(expct)), family = poisson, data = rossi)
g2 <- glm(arrest ~ lp + offset(log(expct) - lp), family = poisson, data = rossi)
add("apparent", "intercept", "", coef(g1)[1])
add("apparent", "slope_poisson", "", coef(g2)[2])
# smooth calibration at t0: predicted risk from the Breslow baseline, Cox model of the outcome on
# a restricted cubic spline (3 knots, rms defaults) of cloglog(predicted risk)
sf <- survfit(fit, newdata = rossi, ctype = 1)
pred <- 1 - as.numeric(summary(sf, times = t0)$surv)
rossi$cll <- log(-log(1 - pred))
cal <- coxph(Surv(week, arrest) ~ rcs(cll, 3), data = rossi, ties = "breslow", x = TRUE)
grid <- quantile(pred, seq(0.05, 0.95, by = 0.05), type = 7)
nd <- data.frame(cll = log(-log(1 - grid)))
obs <- 1 - as.numeric(summary(survfit(cal, newdata = nd, ctype = 1), times = t0)$surv)
for (i in seq_along(grid)) {
  add("calibration", "predicted", i, grid[i])
  add("calibration", "observed", i, obs[i])
}
obs_all <- 1 - as.numeric(summary(survfit(cal, newdata = rossi, ctype = 1), times = t0)$surv)
add("calibration", "ici", "", mean(abs(obs_all - pred)))
add("calibration", "e50", "", median(abs(obs_all - pred)))
add("calibration", "e90", "", quantile(abs(obs_all - pred), 0.9, type = 7))
add("calibration", "knots", "1", attr(rcs(rossi$cll, 3), "parms")[1])
add("calibration", "knots", "3", attr(rcs(rossi$cll, 3), "parms")[3])
for (i in 1:3) add("calibration", "pred_first", i, pred[i])
# rms::validate with many bootstraps (Monte Carlo error of the corrected indices about 0.002)
set.seed(20261130)
f <- cph(Surv(week, arrest) ~ fin + age + prio, data = rossi, x = TRUE, y = TRUE, surv = TRUE)
v <- validate(f, B = 2000)
for (idx in c("Dxy", "Slope")) {
  for (col in c("index.orig", "training", "test", "optimism", "index.corrected")) add("rms_validate", col, idx, v[idx, col])
}
write.csv(do.call(rbind, out), "r_reference.csv", row.names = FALSE)
cat(R.version.string, "rms", as.character(packageVersion("rms")), "\n")
