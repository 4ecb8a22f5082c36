from portflare.cli.main import cli

cli()
