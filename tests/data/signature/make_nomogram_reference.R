# Reference for rg.survival.nomogram: rms::nomogram points of a Cox model (rms 6.5, R 4.2).
# Run from the repository root: Rscript tests/data/signature/make_nomogram_reference.R
suppressMessages(library(rms))
d <- read.csv("tests/data/signature/nomogram_input.csv")
d$grade <- factor(d$grade)
dd <- datadist(d); options(datadist = "dd")
fit <- cph(Surv(time, status) ~ age + idh + grade + f1, data = d, x = TRUE, y = TRUE, surv = TRUE)
nom <- nomogram(fit, lp = TRUE)
out <- NULL
for (v in c("age", "idh", "grade", "f1")) {
  out <- rbind(out, data.frame(covariate = v, value = as.character(nom[[v]][[v]]), points = nom[[v]]$points))
}
write.csv(out, "tests/data/signature/nomogram_reference.csv", row.names = FALSE)
write.csv(data.frame(points_per_unit = attr(nom, "info")$sc, coef = names(coef(fit)), value = unname(coef(fit))),
          "tests/data/signature/nomogram_reference_scale.csv", row.names = FALSE)
