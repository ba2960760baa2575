# DESeq2 1.38.3 reference for tests/test_omics.py (run in a folder with counts.csv = gunzip deseq2_vst_counts.csv.gz).
# Output vst.csv was rounded to 8 decimals and gzipped as deseq2_vst_reference.csv.gz.
# Printed coefficients: asymptDisp 0.08053947585, extraPois 1.318302285.
suppressMessages(library(DESeq2))
x <- as.matrix(read.csv("counts.csv", row.names=1, check.names=FALSE))
cts <- t(x); storage.mode(cts) <- "integer"
dds <- DESeqDataSetFromMatrix(cts, data.frame(row.names=colnames(cts), g=rep(1, ncol(cts))), ~1)
v <- varianceStabilizingTransformation(dds, blind=TRUE, fitType="parametric")
dds <- estimateSizeFactors(dds); dds <- estimateDispersions(dds, fitType="parametric", quiet=TRUE)
co <- attr(dispersionFunction(dds), "coefficients")
write.csv(t(assay(v)), "vst.csv")
write.csv(data.frame(size_factor=sizeFactors(dds)), "sf.csv")
write.csv(data.frame(disp_gene=mcols(dds)$dispGeneEst, row.names=rownames(dds)), "disp.csv")
cat(sprintf("%.10g %.10g\n", co["asymptDisp"], co["extraPois"]))
cat(as.character(packageVersion("DESeq2")), "\n")

# Constant dispersion (fitType="mean"), first 40 genes -> deseq2_vst_mean_reference.csv.gz; printed mean dispersion 0.1528752237.
v <- varianceStabilizingTransformation(dds, blind=TRUE, fitType="mean")
write.csv(t(assay(v))[, 1:40], "vst_mean.csv")
dds <- estimateDispersions(dds, fitType="mean", quiet=TRUE)
cat(sprintf("%.10g\n", attr(dispersionFunction(dds), "mean")))
