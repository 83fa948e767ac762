# Reference joint tests of a treatment x category interaction (k - 1 product terms) by R's
# survival::coxph, for tests/test_reconstruct_cat_interaction.py.
# Run from this folder: Rscript cat_interaction.R (R 4.2.2, survival 3.5.3).
library(survival)

num <- function(x) format(x, digits = 17)
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")

reference <- function(name, d, categories, ties) {
  d$category <- factor(d$category, levels = categories)
  ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)
  full <- coxph(Surv(time, death) ~ treatment * category, data = d, ties = ties, control = ctl)
  reduced <- coxph(Surv(time, death) ~ treatment + category, data = d, ties = ties, control = ctl)
  prod <- grep(":", names(coef(full)))
  b <- coef(full)[prod]
  v <- vcov(full)[prod, prod]
  wald <- as.numeric(t(b) %*% solve(v, b))
  lr <- anova(reduced, full)
  json <- paste0(
    "{\n",
    '  "name": "', name, '",\n',
    '  "formula": "Surv(time, death) ~ treatment * category",\n',
    '  "ties": "', ties, '",\n',
    '  "categories": [', paste0('"', categories, '"', collapse = ", "), "],\n",
    '  "n": ', full$n, ",\n",
    '  "nevent": ', full$nevent, ",\n",
    '  "product_coef": ', vec(b), ",\n",
    '  "loglik_full": ', num(full$loglik[2]), ",\n",
    '  "loglik_reduced": ', num(reduced$loglik[2]), ",\n",
    '  "df": ', length(prod), ",\n",
    '  "wald_chi2": ', num(wald), ",\n",
    '  "wald_p": ', num(pchisq(wald, length(prod), lower.tail = FALSE)), ",\n",
    '  "lr_chi2": ', num(lr$Chisq[2]), ",\n",
    '  "lr_p": ', num(lr[["Pr(>|Chi|)"]][2]), "\n",
    "}\n"
  )
  writeLines(json, paste0(name, ".json"))
  write.csv(d[, c("time", "death", "treatment", "category")], paste0(name, ".csv"),
            row.names = FALSE)
}

# Veterans' lung cancer trial: standard vs test chemotherapy x cell type (4 categories).
v <- veteran
v <- data.frame(time = v$time, death = v$status, treatment = as.integer(v$trt == 2),
                category = as.character(v$celltype))
reference("veteran_trt_x_celltype", v, c("squamous", "smallcell", "adeno", "large"), "efron")
reference("veteran_trt_x_celltype_breslow", v, c("squamous", "smallcell", "adeno", "large"),
          "breslow")

# Mayo PBC trial (randomised patients): D-penicillamine x edema (3 categories).
p <- pbc[!is.na(pbc$trt), ]
p <- data.frame(time = p$time, death = as.integer(p$status == 2),
                treatment = as.integer(p$trt == 1),
                category = c("0" = "none", "0.5" = "untreated", "1" = "despite")[
                  as.character(p$edema)])
reference("pbc_dpen_x_edema", p, c("none", "untreated", "despite"), "efron")
