# Reference values for radiogenomics' competing-risks functions.
# R 4.2.2, cmprsk 2.2-11, survival 3.5-3 (Debian packages). Run from this folder:
#   Rscript make_reference.R
# Inputs: bmt.csv (Scrucca et al. 2007, Bone Marrow Transplant 40:381-387; 35 patients; status
# 0 = censored, 1 = transplant-related mortality, 2 = relapse; dis 0 = ALL, 1 = AML; from the
# scikit-survival data sets) and sim.csv (simulated here, seed 20261130).
suppressPackageStartupMessages({library(cmprsk); library(survival)})
out <- list()
add <- function(dataset, analysis, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, analysis = analysis, quantity = quantity,
                                        term = term, value = formatC(value, digits = 15, format = "g"))
}
set.seed(20261130)
n <- 200
x1 <- rnorm(n); x2 <- rbinom(n, 1, 0.4); grp <- sample(c("a", "b", "c"), n, replace = TRUE)
t1 <- rexp(n, 0.10 * exp(0.6 * x1 - 0.5 * x2)); t2 <- rexp(n, 0.08 * exp(-0.3 * x1 + 0.4 * x2))
cens <- runif(n, 2, 25)
ftime <- round(pmin(t1, t2, cens), 2)
status <- ifelse(cens <= pmin(t1, t2), 0, ifelse(t1 < t2, 1, 2))
write.csv(data.frame(x1 = round(x1, 6), x2 = x2, grp = grp, ftime = ftime, status = status), "sim.csv", row.names = FALSE)
sim <- read.csv("sim.csv")
bmt <- read.csv("bmt.csv")

for (nm in c("bmt", "sim")) {
  d <- get(nm)
  g <- if (nm == "bmt") d$dis else d$grp
  ci <- cuminc(d$ftime, d$status, group = g, cencode = 0)
  for (k in names(ci)) {
    if (k == "Tests") next
    tp <- ci[[k]]
    for (i in seq_along(tp$time)) {
      add(nm, "cuminc", "time", paste(k, i), tp$time[i])
      add(nm, "cuminc", "est", paste(k, i), tp$est[i])
      add(nm, "cuminc", "var", paste(k, i), tp$var[i])
    }
  }
  tests <- ci$Tests
  for (cause in rownames(tests)) {
    add(nm, "gray", "stat", cause, tests[cause, "stat"])
    add(nm, "gray", "pv", cause, tests[cause, "pv"])
    add(nm, "gray", "df", cause, tests[cause, "df"])
  }
}

# Fine-Gray: cmprsk::crr, and survival::finegray + weighted coxph
fit_crr <- function(d, X, nm, label) {
  f <- crr(d$ftime, d$status, cov1 = X, failcode = 1, cencode = 0)
  se <- sqrt(diag(f$var))
  for (j in seq_along(f$coef)) {
    add(nm, label, "coef", colnames(X)[j], f$coef[j])
    add(nm, label, "se", colnames(X)[j], se[j])
  }
  add(nm, label, "loglik", "", f$loglik)
}
fit_crr(bmt, cbind(dis = bmt$dis), "bmt", "crr")
Xs <- cbind(x1 = sim$x1, x2 = sim$x2)
fit_crr(sim, Xs, "sim", "crr")

sim$ev <- factor(sim$status, 0:2, c("censor", "c1", "c2"))
fg <- finegray(Surv(ftime, ev) ~ ., data = sim[, c("x1", "x2", "ftime", "ev")], etype = "c1")
fc <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + x2, weight = fgwt, data = fg)
for (j in seq_along(coef(fc))) {
  add("sim", "finegray_coxph", "coef", names(coef(fc))[j], coef(fc)[j])
  add("sim", "finegray_coxph", "se", names(coef(fc))[j], sqrt(diag(vcov(fc)))[j])
}

# Counting-process (start, stop] Cox: survival's heart data (Stanford heart transplant, jasa1)
data(heart, package = "survival")
write.csv(heart[, c("id", "start", "stop", "event", "age", "year", "surgery", "transplant")], "heart.csv", row.names = FALSE)
for (ties in c("efron", "breslow")) {
  h <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart, ties = ties)
  s <- summary(h)$coefficients
  for (j in rownames(s)) {
    add("heart", paste0("coxph_", ties), "coef", j, s[j, "coef"])
    add("heart", paste0("coxph_", ties), "se", j, s[j, "se(coef)"])
    add("heart", paste0("coxph_", ties), "p", j, s[j, "Pr(>|z|)"])
  }
  add("heart", paste0("coxph_", ties), "loglik", "", h$loglik[2])
  add("heart", paste0("coxph_", ties), "concordance", "", h$concordance["concordance"])
}

# tt(): a time-varying effect x * log(t) on the veteran data (Therneau's vignette "timedep")
data(veteran, package = "survival")
write.csv(veteran, "veteran.csv", row.names = FALSE)
vt <- coxph(Surv(time, status) ~ trt + prior + karno + tt(karno), data = veteran,
            tt = function(x, t, ...) x * log(t + 20))
s <- summary(vt)$coefficients
for (j in rownames(s)) {
  add("veteran", "coxph_tt_log", "coef", j, s[j, "coef"])
  add("veteran", "coxph_tt_log", "se", j, s[j, "se(coef)"])
}
add("veteran", "coxph_tt_log", "loglik", "", vt$loglik[2])
write.csv(do.call(rbind, out), "r_reference.csv", row.names = FALSE)
cat(R.version.string, "cmprsk", as.character(packageVersion("cmprsk")), "survival", as.character(packageVersion("survival")), "\n")
