WHO = "classic helpers"
