# Reference for rg.survival's inner cross-validation: cv.glmnet (Cox, grouped deviance) with fixed
# folds and a fixed lambda path. R 4.2, glmnet 4.1-6 (Debian r-cran-glmnet).
# Run from the repository root: Rscript tests/data/signature/make_cvglmnet_reference.R
library(glmnet)
d <- read.csv("tests/data/signature/cvglmnet_input.csv")
lambda <- read.csv("tests/data/signature/cvglmnet_lambda.csv")$lambda
x <- as.matrix(d[, grep("^x", names(d))])
y <- cbind(time = d$time, status = d$status)
out <- NULL
for (a in c(1, 0.5)) {
  fit <- cv.glmnet(x, y, family = "cox", lambda = lambda, foldid = d$fold, alpha = a,
                   standardize = TRUE, grouped = TRUE, thresh = 1e-12, maxit = 1e6)
  out <- rbind(out, data.frame(alpha = a, lambda = fit$lambda, cvm = fit$cvm, cvsd = fit$cvsd,
                               nzero = fit$nzero, lambda_min = fit$lambda.min, lambda_1se = fit$lambda.1se))
}
write.csv(out, "tests/data/signature/cvglmnet_reference.csv", row.names = FALSE)
cat(sprintf("glmnet %s\n", packageVersion("glmnet")))
