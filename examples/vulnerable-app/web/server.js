// A deliberately vulnerable Express-style server for sluice's examples. Credentials are fake.
const express = require("express");
const { exec } = require("child_process");

const app = express();
const stripe = require("stripe")("sk_live_51Hq8ZxKp3VtR7mW2nB4cY6dF9gJ1kL5sT8uA0eX3zQ7wN2vM4bC6");

app.get("/run", (req, res) => {
  exec("ls " + req.query.dir, (err, out) => res.send(out));
});

app.get("/hello", (req, res) => {
  res.send("<h1>Hello " + req.query.name + "</h1>");
});

app.listen(3000);
