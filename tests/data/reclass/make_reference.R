# Reference values for radiogenomics.survival.reclassification / idi_nri.
# R 4.2.2, survival 3.5-3, survIDINRI 1.1-2, survC1 1.0-3, nricens 1.6 (CRAN sources from the
# github.com/cran mirrors, installed with R CMD INSTALL). Run in this folder:
#   R_LIBS=<lib with survIDINRI, survC1, nricens> Rscript make_reference.R
# Writes pbc.csv (complete cases of survival::pbc on the columns used), risks.csv (per-patient
# predicted risks by t0 of both models, two definitions) and r_reference.csv (long format).
suppressMessages({library(survival); library(survIDINRI); library(nricens)})
D <- subset(pbc, select = c("id", "time", "status", "age", "albumin", "edema", "protime", "bili"))
D <- D[complete.cases(D), ]
D$event <- as.integer(D$status == 2)  # death; transplant counted as censored
write.csv(D[, c("id", "time", "event", "age", "albumin", "edema", "protime", "bili")], "pbc.csv",
          row.names = FALSE)
old_cols <- c("age", "albumin", "edema", "protime")
new_cols <- c(old_cols, "bili")

# Censoring weights with Kaplan-Meier G(T_i-) (the package's definition; survIDINRI's own point
# estimate uses the Fleming-Harrington G(T_i), nricens's IPW estimator the Kaplan-Meier G(T_i)).
km_minus_weights <- function(time, event, t0) {
  fit <- survfit(Surv(time, 1 - event) ~ 1)
  g_left <- function(t) stepfun(fit$time, c(1, fit$surv), right = TRUE)(t)
  w <- numeric(length(time))
  case <- time <= t0 & event == 1
  w[case] <- 1 / g_left(time[case])
  w[time > t0] <- 1 / stepfun(fit$time, c(1, fit$surv))(t0)
  w
}

# Risk by t0 with the Breslow baseline read as a step function (the package's definition;
# survIDINRI and nricens interpolate the cumulative hazard linearly between observed times).
step_risk <- function(fit, z, t0) {
  lp <- c(z %*% coef(fit))
  dt <- fit$y[, 1]; de <- fit$y[, 2]
  et <- sort(unique(dt[de == 1]))
  h <- sapply(et, function(s) sum(dt == s & de == 1) / sum(exp(lp[dt >= s])))
  1 - exp(-sum(h[et <= t0]) * exp(lp))
}

rows <- list()
add <- function(dataset, source, measure, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, source = source, measure = measure,
                                          value = signif(value, 15))
}
risks <- list()
for (case in list(list(name = "pbc", n = nrow(D), t0 = 2000), list(name = "pbc100", n = 100, t0 = 1825))) {
  d <- D[seq_len(case$n), ]
  t0 <- case$t0
  indata <- as.matrix(d[, c("time", "event")])
  z0 <- as.matrix(d[, old_cols]); z1 <- as.matrix(d[, new_cols])
  fit0 <- survIDINRI:::Est.HR.FUN(cbind(indata, z0), t0)
  fit1 <- survIDINRI:::Est.HR.FUN(cbind(indata, z1), t0)
  p_old <- c(fit0$risk); p_new <- c(fit1$risk)
  s_old <- step_risk(fit0$ft, z0, t0); s_new <- step_risk(fit1$ft, z1, t0)
  risks[[case$name]] <- data.frame(dataset = case$name, id = d$id, risk_old_interp = p_old,
                                   risk_new_interp = p_new, risk_old_step = s_old, risk_new_step = s_new)
  add(case$name, "setup", "t0", t0)
  add(case$name, "setup", "n", nrow(d))

  # survIDINRI defaults: M1 = IDI, M2 = P(up | event) - P(up | no event), M3 = median improvement.
  set.seed(20261201)
  x <- IDI.INF(indata, z0, z1, t0, npert = 300)
  for (m in c("m1", "m2", "m3")) {
    est <- x[[paste0(m, ".est")]]
    add(case$name, "survIDINRI", paste0(m, c("", "_events", "_nonevents")), est)
    add(case$name, "survIDINRI", paste0(m, c("_lower", "_upper", "_p")), x[[m]][2:4])
  }
  # survIDINRI's IDI.FUN with the package's censoring weights, on both risk definitions.
  w <- km_minus_weights(d$time, d$event, t0)
  for (def in c("interp", "step")) {
    pn <- if (def == "interp") p_new else s_new
    po <- if (def == "interp") p_old else s_old
    y <- survIDINRI:::IDI.FUN(indata, t0, pn, po, Wi = w)
    src <- paste0("survIDINRI_kmweights_", def)
    add(case$name, src, c("m1", "m1_events", "m1_nonevents"), c(y$IDI, y$IDI_D1, y$IDI_D0))
    add(case$name, src, c("m2", "m2_events", "m2_nonevents"), c(y$TXI, y$TXI_D1, y$TXI_D0))
    add(case$name, src, c("m3", "m3_events", "m3_nonevents"), c(y$MED, y$MED_D1, y$MED_D0))
    for (method in c("km", "ipw")) {
      r <- suppressMessages(nricens(time = d$time, event = d$event, p.std = po, p.new = pn, t0 = t0,
                                    updown = "diff", cut = 0, point.method = method, niter = 0, msg = FALSE))
      add(case$name, paste0("nricens_", method, "_", def), c("nri", "nri_events", "nri_nonevents"),
          r$nri$Estimate[1:3])
    }
  }
}
write.csv(do.call(rbind, risks), "risks.csv", row.names = FALSE)
write.csv(do.call(rbind, rows), "r_reference.csv", row.names = FALSE)
