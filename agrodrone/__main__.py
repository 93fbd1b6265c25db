from agrodrone.cli import main

main()
