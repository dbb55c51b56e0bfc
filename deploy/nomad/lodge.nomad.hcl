# Lodge on Nomad: three `lodge serve` allocations sharing one Lodge through
# PostgreSQL and S3-compatible object storage. Walk-through:
# docs/cluster.md. The URLs and keys come from Nomad Variables:
#   nomad var put nomad/jobs/lodge database=postgres://lodge:PASSWORD@db/lodge \
#     aws_access_key_id=… aws_secret_access_key=…
#   nomad job run deploy/nomad/lodge.nomad.hcl
job "lodge" {
  type = "service"

  group "lodge" {
    count = 3

    # A dynamic port on the host (the exec driver shares its network).
    network {
      port "http" {}
    }

    # One allocation at a time; a failed one rolls back.
    update {
      max_parallel     = 1
      min_healthy_time = "10s"
      healthy_deadline = "2m"
      auto_revert      = true
    }

    service {
      name     = "lodge"
      port     = "http"
      provider = "nomad"

      check {
        type     = "http"
        path     = "/readyz"
        interval = "2s"
        timeout  = "1s"
      }
    }

    task "lodge" {
      driver = "exec"

      config {
        command = "/usr/local/bin/lodge"
        args    = ["serve", "--config", "${NOMAD_TASK_DIR}/lodge.toml", "--data", "${NOMAD_ALLOC_DIR}/data"]
      }

      # SIGTERM hands this allocation's rooms to the others at once.
      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      env {
        LODGE_NODE_ID   = "${NOMAD_ALLOC_ID}"
        LODGE_ADVERTISE = "http://${NOMAD_ADDR_http}"
        LODGE_LISTEN    = "0.0.0.0:${NOMAD_PORT_http}"
        RUST_LOG        = "info"
      }

      template {
        destination = "${NOMAD_SECRETS_DIR}/lodge.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/lodge" }}
          LODGE_REGISTRY={{ .database }}
          LODGE_KV={{ .database }}
          LODGE_CLUSTER={{ .database }}
          AWS_ACCESS_KEY_ID={{ .aws_access_key_id }}
          AWS_SECRET_ACCESS_KEY={{ .aws_secret_access_key }}
          {{ end }}
        EOT
      }

      template {
        destination = "${NOMAD_TASK_DIR}/lodge.toml"
        data        = <<-EOT
          [storage]
          blobs = "s3://lodge-blobs/prod"

          [storage.blobs-options]
          endpoint = "https://s3.example.internal"
          region = "us-east-1"
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }
    }
  }
}
