CREATE DATABASE dagster OWNER observatory;
