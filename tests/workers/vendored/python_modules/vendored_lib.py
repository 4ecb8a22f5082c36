VALUE = "from python_modules"
