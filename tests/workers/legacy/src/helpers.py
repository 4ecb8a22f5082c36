WHO = "legacy helpers"
