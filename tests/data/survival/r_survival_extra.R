# Extra R reference values for tests/test_survival_core.py (R 4.2, survival 3.5-3).
# Run from the repository root: Rscript tests/data/survival/r_survival_extra.R
library(survival)
rossi <- read.csv("tests/data/survival/rossi.csv")
lung <- read.csv("tests/data/survival/Rsurvival_lung.csv")
lung$dead <- lung$status == 2
out <- data.frame(dataset = character(), analysis = character(), quantity = character(),
                  term = character(), value = numeric())
add <- function(ds, an, q, term, v) {
  out <<- rbind(out, data.frame(dataset = ds, analysis = an, quantity = q, term = term,
                                value = signif(as.numeric(v), 15)))
}
zph <- function(fit, ds, an, transform) {
  z <- cox.zph(fit, transform = transform)
  for (r in rownames(z$table)) {
    add(ds, an, "chisq", r, z$table[r, "chisq"])
    add(ds, an, "df", r, z$table[r, "df"])
    add(ds, an, "p", r, z$table[r, "p"])
  }
}
f_rossi <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
efron <- coxph(f_rossi, data = rossi)
for (tr in c("km", "rank", "identity", "log")) zph(efron, "rossi", paste0("cox.zph_efron_", tr), tr)
zph(coxph(f_rossi, data = rossi, ties = "breslow"), "rossi", "cox.zph_breslow_km", "km")
strat <- coxph(Surv(week, arrest) ~ fin + age + wexp + mar + paro + prio + strata(race), data = rossi)
zph(strat, "rossi", "cox.zph_strata_race_km", "km")
lp <- predict(efron, type = "lp")
for (i in 1:3) add("rossi", "coxph_efron", "lp", paste0("row", i), lp[i])

# categorical covariate (dummy coding, reference = first level) and exact ties with strata
lung$ecog <- factor(lung$ph.ecog)
cat_fit <- coxph(Surv(time, dead) ~ age + ecog, data = lung)
s <- summary(cat_fit)
for (r in rownames(s$coefficients)) {
  add("lung", "coxph_age_ecog_factor", "coef", r, s$coefficients[r, "coef"])
  add("lung", "coxph_age_ecog_factor", "se(coef)", r, s$coefficients[r, "se(coef)"])
}
add("lung", "coxph_age_ecog_factor", "LR_test", "", s$logtest["test"])
add("lung", "coxph_age_ecog_factor", "score_test", "", s$sctest["test"])
add("lung", "coxph_age_ecog_factor", "wald_test", "", s$waldtest["test"])
add("lung", "coxph_age_ecog_factor", "concordance", "", cat_fit$concordance["concordance"])
add("lung", "coxph_age_ecog_factor", "n", "", cat_fit$n)
zph(cat_fit, "lung", "cox.zph_age_ecog_factor_km", "km")
ex <- coxph(Surv(time, dead) ~ age + ph.ecog + strata(sex), data = lung, ties = "exact")
s <- summary(ex)
for (r in rownames(s$coefficients)) {
  add("lung", "coxph_exact_strata_sex", "coef", r, s$coefficients[r, "coef"])
  add("lung", "coxph_exact_strata_sex", "se(coef)", r, s$coefficients[r, "se(coef)"])
}
add("lung", "coxph_exact_strata_sex", "LR_test", "", s$logtest["test"])
add("lung", "coxph_exact_strata_sex", "score_test", "", s$sctest["test"])
add("lung", "coxph_exact_strata_sex", "loglik_model", "", ex$loglik[2])
add("lung", "coxph_exact_strata_sex", "concordance", "", ex$concordance["concordance"])

# log-rank: k groups, trend over ordered groups, stratified
sd <- survdiff(Surv(time, dead) ~ ph.ecog, data = lung)
add("lung", "survdiff_logrank_ecog", "chisq", "", sd$chisq)
add("lung", "survdiff_logrank_ecog", "df", "", length(sd$n) - 1)
w <- as.numeric(sub("ph.ecog=", "", names(sd$n)))
u <- sum(w * (sd$obs - sd$exp))
add("lung", "logrank_trend_ecog", "chisq", "", u^2 / drop(t(w) %*% sd$var %*% w))
sd <- survdiff(Surv(week, arrest) ~ fin + strata(race), data = rossi)
add("rossi", "survdiff_logrank_fin_strata_race", "chisq", "", sd$chisq)

# Kaplan-Meier with log-log intervals (conf.type = "log-log"), medians and their intervals
km <- survfit(Surv(time, dead) ~ sex, data = lung, conf.type = "log-log")
sm <- summary(km, times = c(180, 365, 730))
for (i in seq_along(sm$time)) {
  g <- as.character(sm$strata[i])
  add("lung", "km_by_sex_loglog", paste0("lower95@", sm$time[i]), g, sm$lower[i])
  add("lung", "km_by_sex_loglog", paste0("upper95@", sm$time[i]), g, sm$upper[i])
}
tab <- summary(km)$table
for (g in rownames(tab)) for (q in c("median", "0.95LCL", "0.95UCL")) add("lung", "km_by_sex_loglog", q, g, tab[g, q])
write.csv(out, "tests/data/survival/r_survival_extra.csv", row.names = FALSE)
