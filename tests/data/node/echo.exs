# The Elixir side of NodeInterop.ElixirExchangesMessagesByPidAndByName.
#
#   elixir --sname x --cookie c echo.exs cpp@host
#
# Greets the C++ node's registered mailbox `cppbox` with its own pid (Elixir -> C++ by name),
# then echoes {from, msg} back to `from` (by pid) until {from, :stop}. Prints what it got, so
# the test sees the BEAM side too.
[cpp] = System.argv()
cpp = String.to_atom(cpp)
Process.register(self(), :echo)
send({:cppbox, cpp}, {:hello_from_elixir, self(), Node.self()})
IO.puts("READY #{Node.self()}")

defmodule Echo do
  def loop do
    receive do
      {from, :stop} ->
        IO.puts("STOP")
        send(from, :stopped)

      {from, msg} ->
        IO.puts("GOT #{inspect(msg)} from #{inspect(node(from))}")
        send(from, {:echo, msg})
        loop()
    end
  end
end

Echo.loop()
